/**
 * Container logs in Docker's json-file format: one JSON object per line,
 * `{"log":"hello\n","stream":"stdout","time":"2026-11-21T01:02:03.123456789Z"}`.
 * The supervisor writes them with a LogWriter; `a3s box logs` reads them with readLogs/followLogs.
 * Size-based rotation is not implemented: one file per box grows until the box is removed.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, watch, writeSync } from "node:fs";
import { dirname } from "node:path";
import { A3sError, fromSystemError } from "../core/errors.ts";
import { logger } from "../core/log.ts";

const log = logger("box.logs");

export type LogStream = "stdout" | "stderr";

export interface LogEntry {
  /** The line including its "\n"; a partial line (buffer full or stream ended) has none. */
  log: string;
  stream: LogStream;
  /** RFC3339 with nanoseconds, UTC. */
  time: string;
}

/** Docker's copier emits a partial message when 16 KiB arrive without a newline. */
export const MAX_LINE_BYTES = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// Timestamps: nanoseconds since the epoch as bigint; JS clocks only give milliseconds.

let anchorWall = BigInt(Date.now()) * 1_000_000n;
let anchorHr = process.hrtime.bigint();
let lastNanos = 0n;

/**
 * Wall-clock time in nanoseconds: Date.now() plus sub-millisecond digits from hrtime, re-anchored
 * when the wall clock is stepped, and strictly increasing unless the clock really went back.
 */
export function nowNanos(): bigint {
  const wall = BigInt(Date.now()) * 1_000_000n;
  let nanos = anchorWall + (process.hrtime.bigint() - anchorHr);
  if (nanos - wall > 5_000_000n || wall - nanos > 5_000_000n) {
    [anchorWall, anchorHr, nanos] = [wall, process.hrtime.bigint(), wall];
  }
  if (nanos <= lastNanos && lastNanos - nanos < 5_000_000n) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return nanos;
}

/** RFC3339 with exactly nine fraction digits in UTC (Go's RFC3339NanoFixed, what `docker logs -t` prints). */
export function formatTimestamp(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 2026-11-21T01:02:03.123Z
  const fraction = (((nanos % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, "0");
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * An RFC3339 timestamp in nanoseconds since the epoch. Without a zone it is local time, like Docker;
 * a date alone means its midnight. Undefined when the text is not one or names an impossible date.
 */
export function parseTimestampNanos(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map((v) => Number(v ?? 0));
  const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const fields = [utc.getUTCFullYear(), utc.getUTCMonth() + 1, utc.getUTCDate(), utc.getUTCHours()];
  if ([year, month, day, hour].some((v, i) => v !== fields[i]) || minute > 59 || second > 59) {
    return undefined;
  }
  let ms = utc.getTime();
  const zone = m[8]?.toUpperCase();
  if (zone === undefined) ms = new Date(year, month - 1, day, hour, minute, second).getTime();
  else if (zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? "").padEnd(9, "0"));
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };

/** A Go duration ("10m", "1h30m", "1.5h", "300ms") in milliseconds, or undefined. */
export function parseDuration(text: string): number | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (m === null) return undefined;
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * UNIT_MS[part[2]!]!;
  }
  return m[1] === "-" ? -total : total;
}

/**
 * Docker's `--since`/`--until`: a relative duration (`10m`, `1h30m`, meaning now minus it), a Unix
 * timestamp (`1700000000`, `1700000000.123`) or an RFC3339 timestamp (zone optional, local by default).
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const value = text.trim();
  const duration = value === "0" ? undefined : parseDuration(value);
  if (duration !== undefined) return new Date(now.getTime() - duration);
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix !== null) {
    return new Date(Number(unix[1]) * 1000 + Math.floor(Number((unix[2] ?? "").padEnd(9, "0")) / 1e6));
  }
  const nanos = parseTimestampNanos(value);
  if (nanos !== undefined) return new Date(Number(nanos / 1_000_000n));
  throw new A3sError("usage", `invalid time '${text}'`, {
    hint: "use a duration (10m, 1h30m), a Unix timestamp (1700000000) or RFC3339 (2026-11-21T01:02:03Z)",
  });
}

/** The text `docker logs` prints for an entry; with timestamps (`-t`) the time and a space come first. */
export function formatLogEntry(entry: LogEntry, options: { timestamps: boolean }): string {
  if (!options.timestamps) return entry.log;
  const nanos = parseTimestampNanos(entry.time);
  return `${nanos === undefined ? entry.time : formatTimestamp(nanos)} ${entry.log}`;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Pieces of at most MAX_LINE_BYTES in UTF-8, cut between characters. */
function splitUtf8(text: string): string[] {
  if (text.length * 3 <= MAX_LINE_BYTES) return [text]; // A UTF-16 unit is at most 3 bytes.
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const code = text.codePointAt(i)!;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes + size > MAX_LINE_BYTES) {
      pieces.push(text.slice(start, i));
      [start, bytes] = [i, 0];
    }
    bytes += size;
    i += size === 4 ? 2 : 1;
  }
  pieces.push(text.slice(start));
  return pieces;
}

/**
 * Appends a box's output to its json-file log. Lines end at "\n"; a partial line is kept until its
 * newline arrives, until it reaches MAX_LINE_BYTES, or until flush(). Writes never throw: a full disk
 * drops lines and is recorded once in the a3s log.
 */
export class LogWriter {
  readonly path: string;
  private fd: number | undefined;
  private readonly streams: Record<LogStream, { decoder: TextDecoder; pending: string }>;
  private failed = false;
  private torn = false;

  constructor(path: string) {
    this.path = path;
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, "a", 0o640);
    } catch (err) {
      throw fromSystemError(err, `cannot open log file ${path}`);
    }
    const state = () => ({ decoder: new TextDecoder("utf-8"), pending: "" });
    this.streams = { stdout: state(), stderr: state() };
  }

  write(stream: LogStream, chunk: Uint8Array): void {
    const state = this.streams[stream];
    const text = state.pending + state.decoder.decode(chunk, { stream: true });
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      lines.push(...splitUtf8(text.slice(start, nl + 1)));
      start = nl + 1;
    }
    // The rest waits for its newline unless it filled the buffer.
    const rest = splitUtf8(text.slice(start));
    const last = rest.at(-1)!;
    state.pending = Buffer.byteLength(last) < MAX_LINE_BYTES ? rest.pop()! : "";
    this.append(stream, [...lines, ...rest]);
  }

  /** Emits buffered partial lines (of one stream or both), as when a stream ends. */
  flush(stream?: LogStream): void {
    for (const name of stream === undefined ? (["stdout", "stderr"] as const) : [stream]) {
      const state = this.streams[name];
      const rest = state.pending + state.decoder.decode();
      state.pending = "";
      if (rest !== "") this.append(name, splitUtf8(rest));
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    try {
      closeSync(this.fd);
    } catch {
      // Nothing useful to do: the data was already handed to the kernel.
    }
    this.fd = undefined;
  }

  private append(stream: LogStream, lines: readonly string[]): void {
    if (lines.length === 0 || this.fd === undefined) return;
    const time = formatTimestamp(nowNanos());
    let text = lines.map((line) => `${JSON.stringify({ log: line, stream, time })}\n`).join("");
    // After a short write, start on a fresh line so only the torn entry is lost.
    if (this.torn) text = `\n${text}`;
    const data = Buffer.from(text);
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(this.fd, data, offset);
      this.torn = false;
    } catch (err) {
      if (offset > 0) this.torn = true;
      if (!this.failed) {
        this.failed = true;
        const error = err instanceof Error ? err.message : String(err);
        log.error("cannot write container log; dropping output", { path: this.path, error });
      }
      return;
    }
    if (this.failed) {
      this.failed = false;
      log.info("container log writable again", { path: this.path });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ReadLogsOptions {
  /** The last N entries (after the stream filter), or "all" (the default). */
  tail?: number | "all";
  since?: Date;
  until?: Date;
  streams?: readonly LogStream[];
}

type Filter = ReturnType<typeof makeFilter>;

function makeFilter(options: ReadLogsOptions) {
  const nanos = (date?: Date) => (date === undefined ? undefined : BigInt(date.getTime()) * 1_000_000n);
  const streams: ReadonlySet<LogStream> = new Set(options.streams ?? ["stdout", "stderr"]);
  return { since: nanos(options.since), until: nanos(options.until), streams };
}

/** A parsed line with its time, or undefined for a torn or foreign line (skipped, never fatal). */
function parseLine(line: string): { entry: LogEntry; nanos: bigint } | undefined {
  try {
    const { log, stream, time } = JSON.parse(line) as Partial<LogEntry>;
    const nanos = typeof time === "string" ? parseTimestampNanos(time) : undefined;
    if (typeof log !== "string" || (stream !== "stdout" && stream !== "stderr")) return undefined;
    return nanos === undefined ? undefined : { entry: { log, stream, time: time! }, nanos };
  } catch {
    return undefined; // Empty, torn or not JSON.
  }
}

function accepts(filter: Filter, parsed: { entry: LogEntry; nanos: bigint }): boolean {
  if (!filter.streams.has(parsed.entry.stream)) return false;
  if (filter.since !== undefined && parsed.nanos < filter.since) return false;
  return filter.until === undefined || parsed.nanos <= filter.until;
}

const BLOCK = 64 * 1024;

function openForRead(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch (err) {
    // A box that never started has no log yet: it has printed nothing.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw fromSystemError(err, `cannot read log file ${path}`);
  }
}

interface Chunk {
  entries: LogEntry[];
  /** The offset after the last complete line read: where a follower continues. */
  end: number;
  /** An entry later than `until` was met: reading is over. */
  pastUntil: boolean;
}

/** Accepted entries of the complete lines from `start` to the end of the file. */
function readRange(path: string, start: number, filter: Filter): Chunk {
  const chunk: Chunk = { entries: [], end: 0, pastUntil: false };
  const fd = openForRead(path);
  if (fd === undefined) return chunk;
  try {
    const size = fstatSync(fd).size;
    chunk.end = start > size ? 0 : start; // Truncated or replaced: start over.
    let carry = Buffer.alloc(0);
    const block = Buffer.allocUnsafe(16 * BLOCK);
    while (chunk.end + carry.length < size && !chunk.pastUntil) {
      const want = Math.min(block.length, size - chunk.end - carry.length);
      const got = readSync(fd, block, 0, want, chunk.end + carry.length);
      if (got <= 0) break;
      let data = Buffer.concat([carry, block.subarray(0, got)]);
      for (let nl = data.indexOf(10); nl !== -1 && !chunk.pastUntil; nl = data.indexOf(10)) {
        const parsed = parseLine(data.toString("utf8", 0, nl));
        if (parsed && filter.until !== undefined && parsed.nanos > filter.until) chunk.pastUntil = true;
        else if (parsed && accepts(filter, parsed)) chunk.entries.push(parsed.entry);
        chunk.end += nl + 1;
        data = data.subarray(nl + 1);
      }
      carry = Buffer.from(data);
    }
    return chunk;
  } finally {
    closeSync(fd);
  }
}

/** The newline before the last line of `data`, or -1. */
function previousNewline(data: Buffer): number {
  return data.length < 2 ? -1 : data.lastIndexOf(10, data.length - 2);
}

/**
 * The last `count` accepted entries, reading backwards in blocks from `end`. A line still being written
 * at the end of the file does not parse and is skipped.
 */
function readTail(fd: number, end: number, count: number, filter: Filter): LogEntry[] {
  const found: LogEntry[] = [];
  let position = end;
  let carry = Buffer.alloc(0);
  const block = Buffer.allocUnsafe(BLOCK);
  const take = (bytes: Buffer): boolean => {
    const parsed = parseLine(bytes.toString("utf8"));
    if (parsed === undefined) return false;
    // Entries are in time order: once before `since`, everything earlier is too.
    if (filter.since !== undefined && parsed.nanos < filter.since) return true;
    if (accepts(filter, parsed)) found.push(parsed.entry);
    return found.length >= count;
  };
  while (position > 0) {
    const size = Math.min(BLOCK, position);
    position -= size;
    readSync(fd, block, 0, size, position);
    let data = Buffer.concat([block.subarray(0, size), carry]);
    for (let nl = previousNewline(data); nl !== -1; nl = previousNewline(data)) {
      if (take(data.subarray(nl + 1))) return found.reverse();
      data = data.subarray(0, nl + 1);
    }
    carry = Buffer.from(data);
  }
  if (carry.length > 0) take(carry);
  return found.reverse();
}

/** The offset just after the file's last newline. */
function lastNewlineEnd(fd: number, size: number): number {
  const block = Buffer.allocUnsafe(BLOCK);
  for (let position = size; position > 0; ) {
    const length = Math.min(BLOCK, position);
    position -= length;
    readSync(fd, block, 0, length, position);
    const nl = block.subarray(0, length).lastIndexOf(10);
    if (nl !== -1) return position + nl + 1;
  }
  return 0;
}

function readFrom(path: string, options: ReadLogsOptions): Chunk {
  const filter = makeFilter(options);
  const tail = options.tail ?? "all";
  if (tail === "all") return readRange(path, 0, filter);
  const fd = openForRead(path);
  if (fd === undefined) return { entries: [], end: 0, pastUntil: false };
  try {
    const size = fstatSync(fd).size;
    const count = Math.floor(tail);
    const entries = count <= 0 ? [] : readTail(fd, size, count, filter);
    return { entries, end: lastNewlineEnd(fd, size), pastUntil: false };
  } finally {
    closeSync(fd);
  }
}

/** The entries of a json-file log; `tail` reads only the end of the file. */
export function readLogs(path: string, options: ReadLogsOptions = {}): LogEntry[] {
  return readFrom(path, options).entries;
}

export interface FollowLogsOptions extends ReadLogsOptions {
  signal: AbortSignal;
  /** True once the box has exited and its supervisor closed the log: follow then ends at end of file. */
  isDone: () => boolean;
  /** How often to look at the file when no change notification arrives (default 250 ms). */
  pollMs?: number;
}

/**
 * Existing entries (as readLogs gives them), then new ones as they are appended. Ends on abort, when
 * an entry is past `until`, or when isDone() is true and the file has been read to its end.
 */
export async function* followLogs(path: string, options: FollowLogsOptions): AsyncGenerator<LogEntry> {
  const { signal, isDone } = options;
  const filter = makeFilter(options);
  const initial = readFrom(path, options);
  for (const entry of initial.entries) yield entry;
  let offset = initial.end;
  if (filter.until !== undefined && filter.until < BigInt(Date.now()) * 1_000_000n) return;

  let wake: (() => void) | undefined;
  const notify = () => wake?.();
  let watcher: ReturnType<typeof watch> | undefined;
  const startWatch = () => {
    try {
      watcher = watch(path, notify);
      watcher.on("error", () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined; // No file yet or no inotify: polling alone.
    }
  };
  signal.addEventListener("abort", notify);
  try {
    while (!signal.aborted) {
      const done = isDone(); // Asked before reading, so nothing written just before "done" is missed.
      const chunk = readRange(path, offset, filter);
      offset = chunk.end;
      if (watcher === undefined) startWatch();
      for (const entry of chunk.entries) {
        if (signal.aborted) return;
        yield entry;
      }
      if (chunk.pastUntil || done) return;
      if (chunk.entries.length > 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs ?? 250);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    signal.removeEventListener("abort", notify);
    watcher?.close();
  }
}
