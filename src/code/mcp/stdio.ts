/**
 * The stdio transport for MCP servers. The SDK's own spawns the server in our process group and
 * kills only that one process; servers started through `npx`, `uvx` or a shell script are trees, so
 * this one makes each server a process-group leader and signals the whole group on close. The
 * server's stderr goes straight to its log file (never into the TUI).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface StdioServerOptions {
  command: string;
  args: readonly string[];
  /** The complete environment of the server (the caller merges ours with the configured one). */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where the server's stderr is appended. */
  logFile: string;
}

/** How long a server may take to exit once its stdin is closed, and again after SIGTERM. */
const GRACE_MS = 1000;

export class StdioProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child: ChildProcess | undefined;
  /** The server's process group, kept after the leader exits: what it started may still run. */
  private pgid: number | undefined;
  private readonly buffer = new ReadBuffer();
  private exited: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** How the process ended ("exit code 1", "signal SIGKILL"), once it has. */
  exitReason: string | undefined;

  constructor(private readonly options: StdioServerOptions) {}

  get pid(): number | undefined {
    return this.pgid;
  }

  start(): Promise<void> {
    const { command, args, env, cwd, logFile } = this.options;
    mkdirSync(dirname(logFile), { recursive: true });
    const log = openSync(logFile, "a");
    writeSync(log, `--- ${new Date().toISOString()} starting ${[command, ...args].join(" ")}\n`);
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(command, [...args], { cwd, env, detached: true, stdio: ["pipe", "pipe", log] });
      } finally {
        closeSync(log);
      }
      this.child = child;
      this.pgid = child.pid;
      this.exited = new Promise((done) => {
        child.once("exit", (code, signal) => {
          this.exitReason = signal === null ? `exit code ${code}` : `signal ${signal}`;
          done();
        });
      });
      child.once("spawn", () => resolve());
      child.once("error", (error) => {
        this.exitReason = spawnFailure(command, cwd, error);
        this.child = undefined;
        this.pgid = undefined;
        reject(new Error(this.exitReason));
      });
      child.once("close", () => {
        this.child = undefined;
        this.onclose?.();
      });
      child.stdin?.on("error", (error) => this.onerror?.(error));
      child.stdout?.on("error", (error) => this.onerror?.(error));
      child.stdout?.on("data", (chunk: Buffer) => {
        this.buffer.append(chunk);
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.buffer.readMessage();
          } catch (error) {
            // A line that is not JSON-RPC (a server printing logs to stdout): report it, keep reading.
            this.onerror?.(error as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed) {
        reject(new Error("the server process is not running"));
        return;
      }
      stdin.write(serializeMessage(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Closes stdin (the MCP way to ask a stdio server to stop), then SIGTERM, then SIGKILL the group. */
  close(): Promise<void> {
    return this.stop(true);
  }

  /** For a server already given up on (it hung in initialize): no waiting for it to notice EOF. */
  terminate(): Promise<void> {
    return this.stop(false);
  }

  private stop(politely: boolean): Promise<void> {
    const { pgid, exited } = this;
    if (pgid === undefined || exited === undefined) return Promise.resolve();
    // Also hurries a polite stop already under way (the SDK's Client starts one when connect fails).
    if (!politely) signalGroup(pgid, "SIGTERM");
    this.stopping ??= this.stopSequence(pgid, exited, politely);
    return this.stopping;
  }

  private async stopSequence(pgid: number, exited: Promise<void>, politely: boolean): Promise<void> {
    this.child?.stdin?.end();
    if (!politely || !(await within(exited, GRACE_MS))) {
      signalGroup(pgid, "SIGTERM");
      if (!(await within(exited, GRACE_MS))) {
        signalGroup(pgid, "SIGKILL");
        await exited;
      }
    }
    // The leader is gone; anything it started in its group goes too.
    signalGroup(pgid, "SIGKILL");
    this.buffer.clear();
    this.pgid = undefined;
  }

  /** Synchronous last resort for process exit, when close() can no longer be awaited. */
  kill(): void {
    if (this.pgid !== undefined) signalGroup(this.pgid, "SIGKILL");
  }
}

function within(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

function spawnFailure(command: string, cwd: string, error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" && !existsSync(cwd)) return `working directory not found: ${cwd}`;
  if (code === "ENOENT") return `command not found: ${command}`;
  if (code === "EACCES") return `permission denied: ${command}`;
  return `cannot start ${command}: ${error.message}`;
}
