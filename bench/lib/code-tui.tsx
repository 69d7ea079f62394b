/**
 * The TUI under a fast stream: the real `CodeApp` rendered by Ink (not ink-testing-library's debug
 * mode: the same throttled renderer and escape sequences a terminal gets) into a fake 100×40 TTY,
 * fed by a FakeSession that emits text deltas at a fixed rate. Measured in this process while it
 * streams: event-loop lag (a 10 ms interval timer), Ink's render time per frame, CPU, bytes sent to
 * the terminal, and how long after its emission a token first reaches the terminal. Afterwards
 * every write is replayed into a small terminal emulator and the screen must hold every token, once,
 * in order.
 *
 * Ink and React are imported when measuring starts so the caller can pick React's build first
 * (process.env.NODE_ENV).
 */
import { EventEmitter } from "node:events";
import type { FakeTurn } from "../../cli/tui/testing/fake-session.ts";
import type { Message } from "../../src/code/types.ts";
import { Terminal } from "./terminal.ts";

const COLUMNS = 100;
const ROWS = 40;
const LAG_TICK_MS = 10;
const PROBE_EVERY = 25;
const ANSI = /\x1b\[[0-9;?<>]*[@-~]|\x1b\][^\x07]*\x07/g;

export interface TuiResult {
  rate: number;
  /** KB of earlier conversation on screen (a resumed session), which Ink keeps in <Static>. */
  historyKb: number;
  tokens: number;
  seconds: number;
  /** Every token on the final screen exactly once and in order. */
  exact: boolean;
  problem?: string;
  lagMs: number[];
  renderMs: number[];
  frames: number;
  cpuMs: number;
  bytesWritten: number;
  /** Frames that cleared the whole terminal and scrollback to redraw (the live area outgrew the screen). */
  clears: number;
  /** Emission → first write to the terminal that shows the token, for every PROBE_EVERY-th token. */
  latencyMs: number[];
}

/** Deltas shaped like a model's markdown answer; every word is a unique, ordered token. */
export function answerDeltas(count: number): { deltas: string[]; tokens: string[] } {
  const deltas: string[] = [];
  const tokens: string[] = [];
  let inCode = false;
  for (let i = 0; i < count; i++) {
    const token = `w${String(i).padStart(5, "0")}`;
    tokens.push(token);
    let prefix = i === 0 ? "" : " ";
    if (i > 0 && i % 40 === 0) prefix = "\n\n";
    if (i % 300 === 150) {
      prefix = "\n\n```ts\nconst ";
      inCode = true;
    } else if (inCode && i % 300 === 165) {
      prefix = ";\n```\n\n";
      inCode = false;
    } else if (inCode && i % 3 === 0) prefix = ";\nconst ";
    else if (!inCode && i % 200 === 100) prefix = "\n\n- ";
    else if (!inCode && i % 200 > 100 && i % 200 < 120 && i % 4 === 0) prefix = "\n- ";
    const styled = inCode ? token : i % 17 === 0 ? `**${token}**` : i % 23 === 0 ? `\`${token}\`` : token;
    deltas.push(prefix + styled);
  }
  return { deltas, tokens };
}

class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  readonly columns = COLUMNS;
  readonly rows = ROWS;
  readonly chunks: string[] = [];
  bytes = 0;
  constructor(private readonly onWrite: (text: string) => void) {
    super();
  }
  write(data: string | Uint8Array, callback?: () => void): boolean {
    const text = typeof data === "string" ? data : new TextDecoder().decode(data);
    this.chunks.push(text);
    this.bytes += Buffer.byteLength(text);
    this.onWrite(text);
    callback?.();
    return true;
  }
}

class FakeStdin extends EventEmitter {
  readonly isTTY = true;
  private data: string | null = null;
  /** Delivers one input event, as a terminal does for a key or a paste. */
  type(data: string): void {
    this.data = data;
    this.emit("readable");
  }
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read(): string | null {
    const data = this.data;
    this.data = null;
    return data;
  }
}

/** Earlier exchanges of about 1 KB each, with no word that looks like a streamed token. */
function history(kb: number): Message[] {
  const answer =
    "Earlier answer: the parser keeps its state in one object and the cache is keyed by path. ".repeat(11);
  return Array.from({ length: kb }, (_, i): Message[] => [
    { role: "user", content: [{ type: "text", text: `earlier question ${i + 1}` }] },
    { role: "assistant", content: [{ type: "text", text: answer }] },
  ]).flat();
}

export async function measureTui(rate: number, seconds: number, historyKb = 0): Promise<TuiResult> {
  const [{ render }, { CodeApp }, { History }, { themeFor }, { FakeSession }] = await Promise.all([
    import("ink"),
    import("../../cli/tui/code-app.tsx"),
    import("../../cli/tui/input/history.ts"),
    import("../../cli/tui/theme.tsx"),
    import("../../cli/tui/testing/fake-session.ts"),
  ]);
  const count = Math.round(rate * seconds);
  const { deltas, tokens } = answerDeltas(count);
  const emittedAt: number[] = [];
  const latencyMs: number[] = [];
  let nextProbe = 0;
  let lastShownAt = 0;
  let allShown: () => void = () => {};
  const shown = new Promise<void>((resolve) => {
    allShown = resolve;
  });
  const probes = Array.from({ length: count }, (_, i) => i).filter(
    (i) => i % PROBE_EVERY === 0 || i === count - 1,
  );
  let clears = 0;
  const stdout = new FakeStdout((text) => {
    if (text.includes("\x1b[2J")) clears++;
    if (nextProbe >= probes.length || emittedAt.length === 0) return;
    const plain = text.replace(ANSI, "");
    const now = performance.now();
    while (nextProbe < probes.length) {
      const index = probes[nextProbe] as number;
      if (emittedAt[index] === undefined || !plain.includes(tokens[index] as string)) break;
      latencyMs.push(now - (emittedAt[index] as number));
      nextProbe++;
    }
    if (nextProbe === probes.length) {
      lastShownAt = now;
      allShown();
    }
  });

  const stream = async (turn: FakeTurn) => {
    const start = performance.now();
    let sent = 0;
    while (sent < count) {
      const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      for (; sent < due; sent++) {
        emittedAt[sent] = performance.now();
        turn.emit({ type: "text_delta", text: deltas[sent] as string });
      }
      await Bun.sleep(Math.max(1, 1000 / rate));
    }
    const text = deltas.join("");
    turn.emit({
      type: "assistant_message",
      message: { role: "assistant", content: [{ type: "text", text }] },
    });
    turn.finish(text);
  };
  const session = new FakeSession({ scripts: [stream], messages: history(historyKb) });
  const renderMs: number[] = [];
  const stdin = new FakeStdin();
  const app = render(
    <CodeApp session={session} history={new History()} theme={themeFor({})} onExit={() => {}} />,
    {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      exitOnCtrlC: false,
      kittyKeyboard: { mode: "auto" },
      onRender: ({ renderTime }) => renderMs.push(renderTime),
    },
  );
  const exited = app.waitUntilExit();
  // Typed rather than passed as initialPrompt: FakeSession emits `user_message` inside submit(),
  // before the app's effects subscribe (the real session always awaits first).
  await Bun.sleep(100);
  stdin.type("write a long answer");
  await Bun.sleep(20);
  stdin.type("\r");

  const lagMs: number[] = [];
  let tickAt = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    lagMs.push(Math.max(0, now - tickAt - LAG_TICK_MS));
    tickAt = now;
  }, LAG_TICK_MS);
  const cpuBefore = process.cpuUsage();
  const framesBefore = renderMs.length;
  const bytesBefore = stdout.bytes;
  const clearsBefore = clears;
  const startedAt = performance.now();
  const timeout = setTimeout(allShown, seconds * 1000 + 30_000);
  await shown;
  clearTimeout(timeout);
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(lagTimer);
  const streamedFor = ((lastShownAt || performance.now()) - startedAt) / 1000;
  // Lets the turn end (the answer moves into <Static>) before the screen is read.
  await Bun.sleep(300);
  app.unmount();
  await exited;

  const terminal = new Terminal();
  for (const chunk of stdout.chunks) terminal.write(chunk);
  const seen = terminal.text().match(/w\d{5}/g) ?? [];
  const problem = compareTokens(seen, tokens);
  return {
    rate,
    historyKb,
    tokens: count,
    seconds: streamedFor,
    exact: problem === undefined,
    ...(problem ? { problem } : {}),
    lagMs,
    renderMs: renderMs.slice(framesBefore),
    frames: renderMs.length - framesBefore,
    cpuMs: (cpu.user + cpu.system) / 1000,
    bytesWritten: stdout.bytes - bytesBefore,
    clears: clears - clearsBefore,
    latencyMs,
  };
}

function compareTokens(seen: readonly string[], expected: readonly string[]): string | undefined {
  for (let i = 0; i < Math.max(seen.length, expected.length); i++) {
    if (seen[i] !== expected[i]) {
      return `token #${i}: expected ${expected[i] ?? "(end)"}, screen has ${seen[i] ?? "(end)"} (${seen.length} of ${expected.length} tokens on screen)`;
    }
  }
  return undefined;
}
