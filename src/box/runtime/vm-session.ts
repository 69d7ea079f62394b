/**
 * One microVM as the supervisor sees it: QEMU, the control channel to the guest init, the box's main
 * process on stream 1 and execs on the others. A VM restored from the warm pool that does not come
 * up (QEMU refuses the state, or the guest is not READY in time) is replaced by a cold boot.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket, Subprocess } from "bun";
import { logger } from "../../core/log.ts";
import {
  encodeGuestFrame,
  exitCodeOf,
  GuestFrame,
  GuestFrameDecoder,
  type GuestProcess,
  type GuestStart,
} from "../microvm/channel.ts";
import type { RunIo, RunningProcess } from "./runtime.ts";

const log = logger("box.microvm");

/** Under TCG a cold boot takes about a second; KVM far less. Past this, the VM is declared dead. */
const READY_TIMEOUT_MS = 60_000;
/** A restored guest is READY in ~50 ms under TCG; past this it is given up for a cold boot. */
const WARM_READY_TIMEOUT_MS = 10_000;

/** How the box's VM last came up, in the box's directory: `inspect` shows it. */
export const VM_START_FILE = "vm-start.json";

export interface VmStart {
  /** Restored from the warm pool rather than booted. */
  warm: boolean;
  /** The pool entry it was restored from. */
  key?: string;
  /** QEMU start to the guest's READY, in ms. */
  readyMs: number;
}

export function readVmStart(boxDir: string): VmStart | undefined {
  try {
    return JSON.parse(readFileSync(join(boxDir, VM_START_FILE), "utf8")) as VmStart;
  } catch {
    return undefined;
  }
}

/** How a session brings its VM up: restored from a saved guest when there is one, else booted. */
export interface VmBoot {
  cold: string[];
  warm?: { key: string; args: string[]; discard(): void };
}

/** One running VM, as seen by the supervisor: the main process plus execs on other streams. */
export class VmSession {
  private child: Subprocess<"ignore", "ignore", "pipe"> | undefined;
  private socket: Socket<undefined> | undefined;
  private decoder = new GuestFrameDecoder();
  private readonly streams = new Map<number, { io: RunIo; done: (code: number) => void }>();
  private nextStream = 2;
  private pending: Uint8Array[] = [];
  private beforeStart: Uint8Array[] = [];
  private mainStarted = false;
  /** The restore being tried; cleared once the guest is READY or given up for a cold boot. */
  private warm: VmBoot["warm"];
  private launchedAt = 0;

  constructor(
    private readonly boot: VmBoot,
    private readonly controlSocket: string,
    private readonly bundle: string,
    private readonly main: Omit<GuestStart, "time" | "seed">,
    private readonly io: RunIo,
  ) {}

  start(): RunningProcess {
    let resolveMain: (code: number) => void = () => {};
    const exited = new Promise<number>((resolve) => {
      resolveMain = resolve;
    });
    this.streams.set(1, { io: this.io, done: resolveMain });
    this.warm = this.boot.warm;
    this.launch(this.warm ? this.warm.args : this.boot.cold);
    return {
      exited: exited.then(async (code) => {
        const child = this.child;
        if (child) await Promise.race([child.exited, Bun.sleep(5000)]);
        child?.kill("SIGKILL");
        rmSync(this.controlSocket, { force: true });
        return code;
      }),
      writeStdin: (chunk) => this.send(GuestFrame.stdin, 1, chunk),
      endStdin: () => this.send(GuestFrame.stdinEnd, 1),
      resize: (cols, rows) => this.send(GuestFrame.resize, 1, JSON.stringify({ cols, rows })),
      signal: (signal) => this.send(GuestFrame.signal, 1, JSON.stringify({ signal: signalNumber(signal) })),
      exec: (spec, io) => this.exec(spec, io),
    };
  }

  /** Starts QEMU; everything that happens to it is ignored once another QEMU replaced it. */
  private launch(args: string[]): void {
    rmSync(this.controlSocket, { force: true });
    const [command = "", ...rest] = args;
    this.launchedAt = performance.now();
    const child = Bun.spawn([command, ...rest], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    this.child = child;
    const current = () => this.child === child;
    this.connect(child).catch((err) => {
      if (current()) this.fail(1, `cannot reach the VM: ${(err as Error).message}`);
    });
    child.exited.then(async (code) => {
      if (!current()) return;
      const stderr = (await new Response(child.stderr).text().catch(() => "")).trim();
      if (this.warm && !this.mainStarted) {
        // QEMU's last line says why the load failed ("load of migration failed: …").
        const why = stderr
          .split("\n")
          .pop()
          ?.replace(/^qemu-system-\w+: /, "");
        this.fallBack(`QEMU exited (${code})${why ? `: ${why}` : ""}`, true);
        return;
      }
      // QEMU gone without an EXIT for the main process: the VM crashed or never booted.
      if (this.streams.has(1)) {
        this.fail(
          1,
          `the microVM exited (${code}) before the box did${stderr ? `: ${stderr}` : ""}${this.consoleTail()}`,
        );
      }
    });
    if (this.warm) {
      setTimeout(() => {
        if (current() && this.warm && !this.mainStarted) {
          this.fallBack(`the restored guest was not ready within ${WARM_READY_TIMEOUT_MS / 1000} s`, false);
        }
      }, WARM_READY_TIMEOUT_MS).unref();
    }
  }

  /**
   * The saved guest did not come back: the box boots cold. A state QEMU refused is removed, so the
   * next box does not try it again; a guest that was only slow (a loaded machine) leaves it in place.
   */
  private fallBack(reason: string, discard: boolean): void {
    const warm = this.warm;
    if (!warm) return;
    this.warm = undefined;
    if (discard) warm.discard();
    const removed = discard ? "; it was removed" : "";
    warn(this.io, `cannot restore the warm snapshot ${warm.key} (${reason})${removed}, booting cold`);
    const old = this.child;
    this.socket?.end();
    this.socket = undefined;
    this.decoder = new GuestFrameDecoder();
    this.launch(this.boot.cold);
    old?.kill("SIGKILL");
  }

  private async connect(child: Subprocess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.child !== child) return;
      try {
        const socket = await Bun.connect({
          unix: this.controlSocket,
          socket: {
            data: (_socket, chunk) => {
              if (this.child !== child) return;
              this.decoder.push(chunk, (type, stream, payload) => this.onFrame(type, stream, payload));
            },
            close: () => log.debug("control channel closed"),
          },
        });
        if (this.child !== child) {
          socket.end();
          return;
        }
        this.socket = socket;
        for (const frame of this.pending) socket.write(frame);
        this.pending = [];
        return;
      } catch (err) {
        if (Date.now() > deadline || child.exitCode !== null) throw err;
        await Bun.sleep(5);
      }
    }
  }

  private onFrame(type: number, stream: number, payload: Uint8Array): void {
    const target = this.streams.get(stream);
    switch (type) {
      case GuestFrame.ready:
        // A parked guest says READY each time a host connects; once the box started, never again.
        if (!this.mainStarted) this.startMain();
        return;
      case GuestFrame.stdout:
        target?.io.onStdout(payload);
        return;
      case GuestFrame.stderr:
        target?.io.onStderr(payload);
        return;
      case GuestFrame.exit:
        this.streams.delete(stream);
        target?.done(exitCodeOf(payload));
        return;
      case GuestFrame.error: {
        const { message, code } = JSON.parse(new TextDecoder().decode(payload)) as {
          message: string;
          code: number;
        };
        this.fail(stream, message, code);
        return;
      }
    }
  }

  private startMain(): void {
    const readyMs = Math.round(performance.now() - this.launchedAt);
    const warm = this.warm;
    this.warm = undefined;
    const record: VmStart = { warm: warm !== undefined, ...(warm ? { key: warm.key } : {}), readyMs };
    log.debug(
      warm
        ? `restored from the warm snapshot ${warm.key}: READY after ${readyMs} ms`
        : `booted: READY after ${readyMs} ms`,
    );
    try {
      writeFileSync(join(this.bundle, VM_START_FILE), JSON.stringify(record));
    } catch (err) {
      log.debug(`cannot record how the VM started: ${(err as Error).message}`);
    }
    const start: GuestStart = { ...this.main, time: Date.now(), seed: randomBytes(32).toString("hex") };
    this.write(encodeGuestFrame(GuestFrame.start, 1, JSON.stringify(start)));
    this.mainStarted = true;
    // What came while the VM booted (stdin, signals, execs): the guest takes it once stream 1 runs.
    for (const frame of this.beforeStart) this.write(frame);
    this.beforeStart = [];
  }

  private fail(stream: number, message: string, code = 125): void {
    const target = this.streams.get(stream);
    if (!target) return;
    this.streams.delete(stream);
    target.io.onStderr(new TextEncoder().encode(`${message}\n`));
    target.done(code);
  }

  private send(
    type: (typeof GuestFrame)[keyof typeof GuestFrame],
    stream: number,
    payload?: Uint8Array | string,
  ): void {
    const frame = encodeGuestFrame(type, stream, payload);
    if (this.mainStarted) this.write(frame);
    else this.beforeStart.push(frame);
  }

  private write(frame: Uint8Array): void {
    if (this.socket) this.socket.write(frame);
    else this.pending.push(frame);
  }

  private exec(spec: Partial<GuestProcess>, io: RunIo): RunningProcess {
    const stream = this.nextStream++;
    const exited = new Promise<number>((resolve) => this.streams.set(stream, { io, done: resolve }));
    this.send(GuestFrame.start, stream, JSON.stringify(spec));
    return {
      exited,
      writeStdin: (chunk) => this.send(GuestFrame.stdin, stream, chunk),
      endStdin: () => this.send(GuestFrame.stdinEnd, stream),
      resize: (cols, rows) => this.send(GuestFrame.resize, stream, JSON.stringify({ cols, rows })),
      signal: (signal) =>
        this.send(GuestFrame.signal, stream, JSON.stringify({ signal: signalNumber(signal) })),
    };
  }

  private consoleTail(): string {
    try {
      const lines = readFileSync(join(this.bundle, "console.log"), "utf8")
        .trim()
        .split("\n")
        .slice(-5)
        .join("\n");
      return lines ? `\n${lines}` : "";
    } catch {
      return "";
    }
  }
}

/** A note for the user on the box's stderr (the only channel `run` has to them) and in the log. */
export function warn(io: RunIo, message: string): void {
  log.warn(message);
  io.onStderr(new TextEncoder().encode(`a3s: warning: ${message}\n`));
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15 };

export function signalNumber(signal: string): number {
  const name = signal.toUpperCase().replace(/^SIG/, "");
  return /^\d+$/.test(name) ? Number(name) : (SIGNALS[name] ?? 15);
}
