/**
 * The sandbox backend: an OCI runtime (crun, runc or gVisor's runsc) driven through its CLI, which
 * every one of them implements the same way (`run`, `exec`, `kill`, `delete`).
 */
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import type { FileSink, Subprocess } from "bun";
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import { type OciRuntime, type RuntimeHost, runtimeCommand } from "./oci-cli.ts";
import type { BoxRuntime, ExecOptions, RunIo, RunningProcess } from "./runtime.ts";

const log = logger("box.runtime");

export class OciCliRuntime implements BoxRuntime {
  constructor(
    readonly name: OciRuntime,
    private readonly host: RuntimeHost,
    /** Where the runtime keeps its state (--root); per a3s home so tests and users never collide. */
    private readonly stateRoot: string,
  ) {}

  private command(args: readonly string[]): string[] {
    return runtimeCommand(this.name, ["--root", this.stateRoot, ...args], this.host);
  }

  run(id: string, bundle: string, io: RunIo): RunningProcess {
    const process = spawnProcess(this.command(["run", "--bundle", bundle, id]), io);
    return { ...process, started: this.created(id, process.exited) };
  }

  /**
   * `run` returns before the runtime has written the container's state; an `exec` in that window
   * fails ("…/status: No such file or directory"). crun and runc write a file per container: wait
   * for it (microseconds per look); runsc is asked.
   */
  private async created(id: string, exited: Promise<number>): Promise<void> {
    let done = false;
    exited.finally(() => {
      done = true;
    });
    const stateFile = join(this.stateRoot, id, this.name === "runc" ? "state.json" : "status");
    const exists = () => (this.name === "runsc" ? this.pid(id) !== undefined : existsSync(stateFile));
    const deadline = Date.now() + 10_000;
    while (!done && !exists() && Date.now() < deadline) await Bun.sleep(1);
  }

  exec(id: string, args: string[], options: ExecOptions, io: RunIo): RunningProcess {
    const flags: string[] = [];
    for (const pair of options.env ?? []) flags.push("--env", pair);
    if (options.cwd) flags.push("--cwd", options.cwd);
    if (options.user) {
      flags.push("--user", `${options.user.uid}:${options.user.gid}`);
      for (const gid of options.user.additionalGids ?? []) flags.push("--additional-gids", String(gid));
    }
    return spawnProcess(this.command(["exec", ...flags, id, ...args]), io);
  }

  async signal(id: string, signal: string): Promise<void> {
    const result = Bun.spawnSync(this.command(["kill", id, signal.replace(/^SIG/, "")]), { stderr: "pipe" });
    if (result.exitCode !== 0) {
      const message = result.stderr.toString().trim();
      throw new A3sError(
        "runtime",
        `${this.name} kill ${id.slice(0, 12)}: ${message || `exit ${result.exitCode}`}`,
      );
    }
  }

  pid(id: string): number | undefined {
    const result = Bun.spawnSync(this.command(["state", id]), { stderr: "ignore" });
    if (result.exitCode !== 0) return undefined;
    try {
      const state = JSON.parse(result.stdout.toString()) as { pid?: number; status?: string };
      return state.status === "running" && state.pid ? state.pid : undefined;
    } catch {
      return undefined;
    }
  }

  async delete(id: string): Promise<void> {
    // crun and runc keep a directory per container under --root: no directory, nothing to delete,
    // and no process to spawn (this runs before and after every box run).
    if (this.name !== "runsc" && !existsSync(join(this.stateRoot, id))) return;
    const result = Bun.spawnSync(this.command(["delete", "--force", id]), { stderr: "pipe" });
    const message = result.stderr.toString();
    if (result.exitCode !== 0 && !/does not exist|not found|No such file/i.test(message)) {
      log.warn(`${this.name} delete ${id} failed`, { message });
    }
  }
}

function spawnProcess(command: string[], io: RunIo): RunningProcess {
  let child: Subprocess;
  // The exit code is reported only after the last output has been read.
  const pumps: Promise<void>[] = [];
  let terminal: { write(data: Uint8Array): void; resize(cols: number, rows: number): void } | undefined;
  try {
    if (io.tty) {
      const options = {
        terminal: {
          cols: io.tty.cols,
          rows: io.tty.rows,
          data: (_terminal: unknown, data: Uint8Array) => io.onStdout(data),
        },
      };
      child = Bun.spawn(command, options as unknown as Parameters<typeof Bun.spawn>[1]);
      terminal = (child as unknown as { terminal: typeof terminal }).terminal;
    } else {
      child = Bun.spawn(command, {
        stdin: io.stdin ? "pipe" : "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      pumps.push(
        pump(child.stdout as ReadableStream<Uint8Array>, io.onStdout),
        pump(child.stderr as ReadableStream<Uint8Array>, io.onStderr),
      );
    }
  } catch (err) {
    throw new A3sError("runtime", `cannot start ${command[0]}: ${(err as Error).message}`, { cause: err });
  }
  const stdin = !io.tty && io.stdin ? (child.stdin as FileSink) : undefined;
  return {
    exited: Promise.all([child.exited, ...pumps]).then(([code]) =>
      child.signalCode ? 128 + signalNumber(child.signalCode) : code,
    ),
    writeStdin(chunk) {
      if (terminal) terminal.write(chunk);
      else if (stdin) {
        stdin.write(chunk);
        stdin.flush();
      }
    },
    endStdin() {
      if (terminal)
        terminal.write(new Uint8Array([4])); // ^D: end of input on a terminal
      else stdin?.end();
    },
    resize(cols, rows) {
      // A terminal of unknown size (0×0, e.g. under `script` without a real terminal) keeps 80×24.
      if (cols > 0 && rows > 0) terminal?.resize(cols, rows);
    },
  };
}

async function pump(stream: ReadableStream<Uint8Array>, sink: (chunk: Uint8Array) => void): Promise<void> {
  for await (const chunk of stream) sink(chunk);
}

function signalNumber(signal: NodeJS.Signals | number): number {
  return typeof signal === "number" ? signal : (constants.signals[signal] ?? 0);
}
