/**
 * What a simple command really runs. Programs that run another command (`env X=1 rm x`,
 * `timeout 5 rm x`, `sudo rm x`, `xargs rm`, `find . -exec rm {} ;`, `bash -c 'rm x'`, `eval 'rm x'`)
 * and quoting (`\rm`, `'rm'`) would otherwise hide `rm` from a `Bash(rm:*)` deny rule. Permission
 * checks see every command here; an allow rule must cover each command that runs, so allowing a
 * wrapper never stretches over what it wraps. Like shell.ts this is not a shell: a form it does not
 * know is checked as written, which only a rule for exactly that text can allow.
 */
import { splitCommand } from "./shell.ts";

/** One command that would run: deny and ask rules match any of its forms, an allow rule must match one. */
export interface RunCommand {
  /** As written, then with quotes and escapes removed (when that differs). */
  forms: string[];
  /** A wrapper judged by the commands it runs (`timeout 5 …`): no allow rule needs to name it. */
  judgedByInner: boolean;
}

/** Wrappers nest (`sudo env X=1 bash -c '…'`); past this depth the rest is checked as written. */
const MAX_DEPTH = 8;

/** Every command `command` runs, outermost first; never empty for a non-blank line. */
export function commandsRun(command: string): RunCommand[] {
  const parts = splitCommand(command);
  const out: RunCommand[] = [];
  for (const part of parts.length > 0 ? parts : [command.trim()]) expand(part, 0, out);
  return out;
}

/** `part` is a command line's simple command as written, or the argument vector a wrapper runs. */
function expand(part: string | string[], depth: number, out: RunCommand[]): void {
  const words = typeof part === "string" ? shellWords(part) : part;
  const plain = words.join(" ");
  const forms = typeof part !== "string" ? [plain] : plain !== "" && plain !== part ? [part, plain] : [part];
  const inner = depth < MAX_DEPTH ? innerCommands(words) : undefined;
  // A wrapper that only changes how its command runs is judged by that command; one that changes who
  // runs it or adds commands of its own (sudo, find -exec) must be allowed as well. Deny and ask rules
  // still see the wrapper's own text, so `Bash(sudo:*)` in deny denies `sudo anything`.
  out.push({ forms, judgedByInner: inner?.transparent ?? false });
  if (inner === undefined) return;
  for (const script of inner.scripts) {
    for (const nested of splitCommand(script)) expand(nested, depth + 1, out);
  }
  for (const argv of inner.commands) expand(argv, depth + 1, out);
}

interface Inner {
  /** Argument vectors run directly. */
  commands: string[][];
  /** Command lines run by a shell (`bash -c`, `eval`). */
  scripts: string[];
  /** The wrapper adds nothing of its own to what its command may do. */
  transparent: boolean;
}

const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish"]);

/**
 * Options of each wrapper that take a value (`-n 5`), so the command after them is found; attached
 * forms (`-n5`, `--signal=KILL`) need no entry.
 */
const VALUE_OPTIONS: Record<string, Set<string>> = {
  env: new Set(["-u", "--unset", "-C", "--chdir", "-S", "--split-string"]),
  timeout: new Set(["-s", "--signal", "-k", "--kill-after"]),
  nice: new Set(["-n", "--adjustment"]),
  ionice: new Set(["-c", "--class", "-n", "--classdata", "-p", "--pid", "-P", "--pgid", "-u", "--uid"]),
  stdbuf: new Set(["-i", "--input", "-o", "--output", "-e", "--error"]),
  sudo: new Set([
    "-u",
    "--user",
    "-g",
    "--group",
    "-C",
    "--close-from",
    "-D",
    "--chdir",
    "-h",
    "--host",
    "-p",
    "--prompt",
    "-r",
    "--role",
    "-t",
    "--type",
    "-T",
    "--command-timeout",
    "-U",
    "--other-user",
    "-R",
    "--chroot",
  ]),
  doas: new Set(["-u", "-C"]),
  xargs: new Set([
    "-a",
    "--arg-file",
    "-d",
    "--delimiter",
    "-E",
    "-e",
    "-I",
    "-i",
    "-L",
    "-l",
    "-n",
    "--max-args",
    "-P",
    "--max-procs",
    "-s",
    "--max-chars",
    "--process-slot-var",
  ]),
  nohup: new Set(),
  command: new Set(),
  exec: new Set(["-a"]),
  builtin: new Set(),
  chrt: new Set(),
  taskset: new Set(),
  unbuffer: new Set(),
  watch: new Set(["-n", "--interval", "-d", "--differences", "-q", "--equexit", "-s", "--shell"]),
};

/** Wrappers whose command runs with more power than the caller's own. */
const ESCALATING = new Set(["sudo", "doas"]);

function innerCommands(words: string[]): Inner | undefined {
  let start = 0;
  // `FOO=1 BAR=2 cmd`: assignments before a command only set its environment.
  while (start < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[start] as string)) start++;
  if (start === words.length) return undefined;
  if (start > 0) return { commands: [words.slice(start)], scripts: [], transparent: true };

  const name = basename(words[0] as string);
  if (SHELLS.has(name)) return shellScript(words);
  if (name === "eval") {
    return words.length > 1
      ? { commands: [], scripts: [words.slice(1).join(" ")], transparent: true }
      : undefined;
  }
  if (name === "find") return findExec(words);
  const options = VALUE_OPTIONS[name];
  if (options === undefined) return undefined;
  if (name === "command" && words.slice(1).some((word) => word === "-v" || word === "-V")) return undefined;
  let i = 1;
  while (i < words.length) {
    const word = words[i] as string;
    if (word === "--") {
      i++;
      break;
    }
    if (name === "env" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) {
      i++;
      continue;
    }
    if (!word.startsWith("-") || word === "-") break;
    i += options.has(word) ? 2 : 1;
  }
  // timeout, chrt and taskset take a positional argument before the command.
  if (name === "timeout" || name === "chrt" || name === "taskset") i++;
  if (i >= words.length) {
    // `xargs` alone runs echo; a bare `env`/`nice`/`sudo -l` runs nothing else.
    return undefined;
  }
  return { commands: [words.slice(i)], scripts: [], transparent: !ESCALATING.has(name) };
}

/** `bash -c 'script' name args`, `sh -lc '…'`; a shell reading a script file or stdin runs unknown text. */
function shellScript(words: string[]): Inner | undefined {
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as string;
    if (word === "--" || !word.startsWith("-")) return undefined;
    if (/^-[a-zA-Z]*c[a-zA-Z]*$/.test(word)) {
      const script = words[i + 1];
      return script === undefined ? undefined : { commands: [], scripts: [script], transparent: true };
    }
  }
  return undefined;
}

/** `find … -exec cmd {} ;` / `-execdir` / `-ok` / `-okdir`: each runs its command per file found. */
function findExec(words: string[]): Inner | undefined {
  const commands: string[][] = [];
  for (let i = 1; i < words.length; i++) {
    if (!/^-(exec|execdir|ok|okdir)$/.test(words[i] as string)) continue;
    const end = words.findIndex((word, at) => at > i && (word === ";" || word === "+"));
    const stop = end === -1 ? words.length : end;
    if (stop > i + 1) commands.push(words.slice(i + 1, stop));
    i = stop;
  }
  return commands.length > 0 ? { commands, scripts: [], transparent: false } : undefined;
}

function basename(word: string): string {
  return word.slice(word.lastIndexOf("/") + 1);
}

/**
 * The words of a simple command with quoting removed, as the program would receive them (no
 * expansion: `$HOME` stays `$HOME`). Unterminated quotes run to the end.
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const end = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      end();
      i++;
      continue;
    }
    inWord = true;
    if (c === "\\") {
      word += text[i + 1] ?? "";
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      const stop = close === -1 ? text.length : close;
      word += text.slice(i + 1, stop);
      i = stop + 1;
    } else if (c === "$" && text[i + 1] === "'") {
      const close = ansiQuoteEnd(text, i + 2);
      word += text.slice(i + 2, close).replace(/\\(.)/g, "$1");
      i = close + 1;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\" && '"\\$`'.includes(text[i + 1] ?? "")) {
          word += text[i + 1];
          i += 2;
        } else {
          word += text[i];
          i++;
        }
      }
      i++;
    } else {
      word += c;
      i++;
    }
  }
  end();
  return words;
}

function ansiQuoteEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length && text[i] !== "'") i += text[i] === "\\" ? 2 : 1;
  return Math.min(i, text.length);
}
