/**
 * Runs one command the way a cron job runs: in its own session and process group (so a timeout
 * kills everything it started), with the tail of stdout and stderr captured up to a stated cap.
 */
import { spawn } from "node:child_process";
import { processStartTime } from "../box/process.ts";
import type { Clock } from "./clock.ts";
import { OUTPUT_CAP_BYTES } from "./runs.ts";

export { OUTPUT_CAP_BYTES };
/** After SIGTERM on timeout, the group has this long to exit before SIGKILL. */
export const KILL_GRACE_MS = 5_000;
/** After the job's own process exits, how long background children may hold its output open. */
const CLOSE_WAIT_MS = 1_000;

export interface ProcessSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number | null;
}

export interface ProcessResult {
  status: "success" | "failed" | "timeout";
  /** Why it failed when the exit status does not say (could not start, timed out, stopped). */
  reason: string | null;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutDropped: number;
  stderrDropped: number;
  startedAt: number;
  finishedAt: number;
}

export interface RunOptions {
  clock: Clock;
  /** Aborting kills the process group (the daemon is stopping). */
  signal?: AbortSignal;
  onSpawn?: (pid: number, start: number | undefined) => void;
}

/** Keeps the last `cap` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;

  constructor(private readonly cap: number = OUTPUT_CAP_BYTES) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.cap;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

export function runProcess(spec: ProcessSpec, options: RunOptions): Promise<ProcessResult> {
  const { clock } = options;
  const startedAt = clock.now();
  const stdout = new TailBuffer();
  const stderr = new TailBuffer();
  const [command = "/bin/sh", ...args] = spec.argv;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true, // a new session: the job's pid is its process group id
      stdio: ["ignore", "pipe", "pipe"],
    });
    const cancel = new AbortController();
    let killedFor: "timeout" | "stopped" | undefined;
    let exited: { code: number | null; signal: string | null } | undefined;
    let settled = false;

    const finish = (status: ProcessResult["status"], reason: string | null) => {
      if (settled) return;
      settled = true;
      cancel.abort();
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        status,
        reason,
        exitCode: exited?.code ?? null,
        signal: exited?.signal ?? null,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutDropped: stdout.dropped,
        stderrDropped: stderr.dropped,
        startedAt,
        finishedAt: clock.now(),
      });
    };

    const killGroup = async (why: "timeout" | "stopped") => {
      if (exited || settled || child.pid === undefined) return;
      killedFor ??= why;
      signalGroup(child.pid, "SIGTERM");
      await clock.sleep(KILL_GRACE_MS, cancel.signal);
      if (!exited && !settled) signalGroup(child.pid, "SIGKILL");
    };

    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (err) => finish("failed", `cannot start: ${err.message}`));
    child.on("spawn", () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid, processStartTime(child.pid));
      if (spec.timeoutMs !== null && spec.timeoutMs > 0) {
        void clock.sleep(spec.timeoutMs, cancel.signal).then(() => {
          if (!cancel.signal.aborted) void killGroup("timeout");
        });
      }
      if (options.signal?.aborted) void killGroup("stopped");
      else options.signal?.addEventListener("abort", () => void killGroup("stopped"), { once: true });
    });
    const conclude = () => {
      if (killedFor === "timeout")
        finish("timeout", `timed out after ${spec.timeoutMs} ms; process group killed`);
      else if (killedFor === "stopped") finish("failed", "stopped: the scheduler shut down during the run");
      else if (exited?.code === 0) finish("success", null);
      else finish("failed", null);
    };
    let closed = false;
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      if (closed) return conclude();
      // Background children may keep the pipes open: give them a moment, then stop reading.
      void clock.sleep(CLOSE_WAIT_MS, cancel.signal).then(conclude);
    });
    child.on("close", () => {
      closed = true;
      if (exited) conclude();
    });
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Kills what is left of a process group (an orphan of a scheduler that died), if it is still ours. */
export function killOrphanGroup(pid: number, start: number | null): boolean {
  if (start !== null && processStartTime(pid) !== start) return false;
  try {
    process.kill(-pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
