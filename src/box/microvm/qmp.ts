/**
 * A small client of QEMU's machine protocol (QMP) over its unix socket: one command at a time, events
 * ignored. The warm pool uses it to save a parked guest.
 */
import type { Socket } from "bun";

interface Reply {
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
  QMP?: unknown;
}

export class Qmp {
  private buffered = "";
  private readonly waiting: Array<(reply: Reply) => void> = [];
  private closed = false;

  private constructor(private socket: Socket<undefined> | undefined) {}

  /** Connects (retrying until QEMU has made the socket, or `alive` says QEMU is gone) and negotiates. */
  static async connect(path: string, timeoutMs: number, alive: () => boolean): Promise<Qmp> {
    const qmp = new Qmp(undefined);
    const greeting = qmp.next();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        qmp.socket = await Bun.connect({
          unix: path,
          socket: {
            data: (_socket, chunk) => qmp.receive(chunk),
            close: () => qmp.onClose(),
            error: () => qmp.onClose(),
          },
        });
        break;
      } catch (err) {
        if (Date.now() > deadline || !alive()) throw new Error(`cannot reach QEMU's QMP socket: ${err}`);
        await Bun.sleep(5);
      }
    }
    await greeting;
    await qmp.command("qmp_capabilities");
    return qmp;
  }

  /** Runs one command; rejects with QEMU's error description. */
  async command<T = unknown>(execute: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed || !this.socket) throw new Error(`QMP ${execute}: QEMU closed the connection`);
    const reply = this.next();
    this.socket.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    const answer = await reply;
    if (answer.error) throw new Error(`QMP ${execute}: ${answer.error.desc}`);
    return answer.return as T;
  }

  close(): void {
    this.socket?.end();
  }

  private next(): Promise<Reply> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private receive(chunk: Uint8Array): void {
    this.buffered += new TextDecoder().decode(chunk);
    for (let end = this.buffered.indexOf("\n"); end >= 0; end = this.buffered.indexOf("\n")) {
      const line = this.buffered.slice(0, end).trim();
      this.buffered = this.buffered.slice(end + 1);
      if (line === "") continue;
      const reply = JSON.parse(line) as Reply;
      if (reply.event === undefined) this.waiting.shift()?.(reply);
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const resolve of this.waiting.splice(0)) {
      resolve({ error: { class: "Closed", desc: "QEMU closed the connection" } });
    }
  }
}
