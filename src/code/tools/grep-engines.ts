/**
 * The two ways grep searches: ripgrep's JSON output when `rg` is installed, and a JavaScript walk
 * with the same rules otherwise (hidden files searched, .git skipped, .gitignore honoured inside a
 * repository, symlinks and binary files skipped). Both return the same hits, sorted by path.
 */
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { relative, sep } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { nameOrPathGlob } from "./glob-pattern.ts";
import { walk } from "./walk.ts";

export interface GrepQuery {
  pattern: string;
  /** Absolute file or directory to search. */
  root: string;
  /** The workspace: globs with a slash are matched against paths relative to it. */
  cwd: string;
  glob?: string;
  ignoreCase: boolean;
  /** Lines of context before and after each match. */
  context: number;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

export interface HitLine {
  number: number;
  text: string;
  match: boolean;
}

export interface FileHits {
  path: string;
  /** Matching lines and, with context, the lines around them, in order. */
  lines: HitLine[];
  matches: number;
}

export type GrepEngine = "ripgrep" | "js";

const byPath = (a: FileHits, b: FileHits) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Whether `rg` is on the PATH of this environment. */
export function hasRipgrep(env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(":").some((dir) => {
    try {
      return dir !== "" && statSync(`${dir}/rg`).isFile();
    } catch {
      return false;
    }
  });
}

function globFilter(query: GrepQuery): (path: string) => boolean {
  if (query.glob === undefined) return () => true;
  const negated = query.glob.startsWith("!");
  const matcher = nameOrPathGlob(negated ? query.glob.slice(1) : query.glob);
  return (path) => {
    const rel = relative(query.cwd, path).split(sep).join("/");
    return matcher.matches(rel, path.slice(path.lastIndexOf(sep) + 1)) !== negated;
  };
}

function compilePattern(pattern: string, ignoreCase: boolean): RegExp {
  try {
    return new RegExp(pattern, ignoreCase ? "i" : "");
  } catch (err) {
    throw new A3sError(
      "usage",
      `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`,
    );
  }
}

function searchText(path: string, regex: RegExp, context: number): FileHits | undefined {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch {
    return undefined;
  }
  if (buffer.includes(0)) return undefined;
  const text = buffer.toString("utf8");
  const lines = text.split("\n");
  if (text.endsWith("\n")) lines.pop();
  const hits = lines.flatMap((line, i) => (regex.test(line) ? [i] : []));
  if (hits.length === 0) return undefined;
  const shown = new Set<number>();
  for (const hit of hits)
    for (let i = Math.max(0, hit - context); i <= Math.min(lines.length - 1, hit + context); i++)
      shown.add(i);
  const matched = new Set(hits);
  const result = [...shown]
    .sort((a, b) => a - b)
    .map((i) => ({ number: i + 1, text: lines[i]!, match: matched.has(i) }));
  return { path, lines: result, matches: hits.length };
}

export function grepWithJs(query: GrepQuery): FileHits[] {
  const regex = compilePattern(query.pattern, query.ignoreCase);
  if (statSync(query.root).isFile()) {
    const hits = searchText(query.root, regex, query.context);
    return hits ? [hits] : [];
  }
  const wanted = globFilter(query);
  const results: FileHits[] = [];
  walk(query.root, {
    stop: () => query.signal.aborted,
    visit: ({ path, dirent }) => {
      if (!dirent.isFile() || !wanted(path)) return;
      const hits = searchText(path, regex, query.context);
      if (hits) results.push(hits);
    },
  });
  return results.sort(byPath);
}

interface RgMessage {
  type: string;
  data: {
    path?: { text?: string; bytes?: string };
    lines?: { text?: string; bytes?: string };
    line_number?: number;
  };
}

function rgText(value: { text?: string; bytes?: string } | undefined): string {
  if (value?.text !== undefined) return value.text;
  return value?.bytes === undefined ? "" : Buffer.from(value.bytes, "base64").toString("utf8");
}

function ripgrepArgs(query: GrepQuery): string[] {
  return [
    "--json",
    "--no-config",
    "--hidden",
    "--no-ignore-global",
    "--no-ignore-dot",
    "--glob",
    "!.git",
    // A --glob would re-include gitignored files (ripgrep's overrides beat ignore rules); a file
    // type does not, and narrows the search early. Globs are checked again on the results.
    ...(query.glob !== undefined && !query.glob.includes("/") && !query.glob.startsWith("!")
      ? ["--type-add", `a3sglob:${query.glob}`, "--type", "a3sglob"]
      : []),
    ...(query.ignoreCase ? ["--ignore-case"] : ["--case-sensitive"]),
    ...(query.context > 0 ? ["--context", String(query.context)] : []),
    "--regexp",
    query.pattern,
    "--",
    query.root,
  ];
}

/** Runs ripgrep; undefined when it rejects the pattern (a JavaScript-only regex feature). */
export async function grepWithRipgrep(query: GrepQuery): Promise<FileHits[] | undefined> {
  const child = spawn("rg", ripgrepArgs(query), {
    cwd: query.cwd,
    env: query.env,
    stdio: ["ignore", "pipe", "pipe"],
    signal: query.signal,
  });
  const files = new Map<string, FileHits>();
  let pending = "";
  let stderr = "";
  const take = (line: string) => {
    if (line === "") return;
    const message = JSON.parse(line) as RgMessage;
    if (message.type !== "match" && message.type !== "context") return;
    const path = rgText(message.data.path);
    let file = files.get(path);
    if (!file) {
      file = { path, lines: [], matches: 0 };
      files.set(path, file);
    }
    const text = rgText(message.data.lines).replace(/\n$/, "");
    const match = message.type === "match";
    if (match) file.matches++;
    file.lines.push({ number: message.data.line_number ?? 0, text, match });
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (pending + chunk).split("\n");
    pending = parts.pop() ?? "";
    for (const part of parts) take(part);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  }).catch((err: unknown) => {
    if (query.signal.aborted) throw new A3sError("interrupted", "search interrupted");
    throw new A3sError("runtime", `cannot run rg: ${(err as Error).message}`);
  });
  take(pending);
  // 1 is "no match"; 2 is an error, which with results means some files could not be read.
  if (code === 2 && files.size === 0) {
    if (/regex parse error|error parsing regex|look-around/i.test(stderr)) return undefined;
    throw new A3sError("runtime", `rg failed: ${stderr.trim().split("\n").slice(0, 5).join("\n")}`);
  }
  const wanted = globFilter(query);
  return [...files.values()].filter((file) => file.path === query.root || wanted(file.path)).sort(byPath);
}

/** Searches with ripgrep when it is installed (and accepts the pattern), else in JavaScript. */
export async function searchFiles(
  query: GrepQuery,
  engine: GrepEngine | "auto" = "auto",
): Promise<FileHits[]> {
  if (engine === "ripgrep" || (engine === "auto" && hasRipgrep(query.env))) {
    const hits = await grepWithRipgrep(query);
    if (hits !== undefined || engine === "ripgrep") return hits ?? [];
  }
  return grepWithJs(query);
}
