/**
 * Runs one hook command: `bash -c` in its own process group, the event JSON on stdin, stdout and
 * stderr collected (capped), killed with its whole group on timeout or abort.
 */
import { type ChildProcess, spawn } from "node:child_process";

/** What a hook did; `failure` when it could not run to completion (not started, timed out, interrupted). */
export interface RawResult {
  command: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  failure?: string;
}

export interface CommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

const OUTPUT_CAP = 1024 * 1024;

export function runCommand(
  command: string,
  timeoutSeconds: number,
  payload: string,
  options: CommandOptions,
): Promise<RawResult> {
  return new Promise((resolvePromise) => {
    let child: ChildProcess;
    try {
      child = spawn("bash", ["-c", command], {
        cwd: options.cwd,
        env: options.env,
        stdio: ["pipe", "pipe", "pipe"],
        // Its own process group, so a timeout kills what the hook started too.
        detached: true,
      });
    } catch (err) {
      resolvePromise({
        command,
        exitCode: null,
        stdout: "",
        stderr: "",
        failure: `cannot start: ${String(err)}`,
      });
      return;
    }
    let stdout = "";
    let stderr = "";
    let failure: string | undefined;
    let exitCode: number | null = null;
    let settled = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolvePromise({ command, exitCode, stdout, stderr, ...(failure === undefined ? {} : { failure }) });
    };
    const timer = setTimeout(() => {
      failure = `timed out after ${timeoutSeconds} s`;
      killGroup();
    }, timeoutSeconds * 1000);
    const onAbort = () => {
      failure = "interrupted";
      killGroup();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout?.on("data", (chunk: Buffer) => {
      if (stdout.length < OUTPUT_CAP) stdout += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderr.length < OUTPUT_CAP) stderr += chunk.toString("utf8");
    });
    child.on("error", (err) => {
      failure ??= `cannot start: ${err.message}`;
      finish();
    });
    child.on("exit", (code) => {
      exitCode = code;
      // A process the hook left in the background may hold the pipes open; do not wait for it.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, 250).unref();
    });
    child.on("close", finish);
    // A hook that does not read its stdin closes the pipe early; that is not an error.
    child.stdin?.on("error", () => {});
    child.stdin?.end(payload);
  });
}
