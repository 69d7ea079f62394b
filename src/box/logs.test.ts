import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { A3sError } from "../core/errors.ts";
import { configureLog } from "../core/log.ts";
import {
  followLogs,
  formatLogEntry,
  formatTimestamp,
  type LogEntry,
  LogWriter,
  MAX_LINE_BYTES,
  parseSince,
  parseTimestampNanos,
  readLogs,
} from "./logs.ts";

const dir = mkdtempSync(join(tmpdir(), "a3s-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const newPath = () => join(dir, `log-${++counter}.json`);
const bytes = (text: string) => new TextEncoder().encode(text);

function writeAll(chunks: readonly ["stdout" | "stderr", string | Uint8Array][]): LogEntry[] {
  const path = newPath();
  const writer = new LogWriter(path);
  for (const [stream, chunk] of chunks)
    writer.write(stream, typeof chunk === "string" ? bytes(chunk) : chunk);
  writer.close();
  return readLogs(path);
}

/** Waits until a condition holds (or 5 s pass), so slow machines do not make tests flaky. */
async function eventually(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition() && waited < 5000; waited += 10) await Bun.sleep(10);
}

const at = (seconds: number, log: string, stream = "stdout") =>
  `${JSON.stringify({ log, stream, time: formatTimestamp(BigInt(seconds) * 1_000_000_000n) })}\n`;

describe("LogWriter", () => {
  test("writes Docker's json-file format, one object per line", () => {
    const path = newPath();
    const writer = new LogWriter(path);
    writer.write("stdout", bytes("hello\n"));
    writer.close();
    const line = readFileSync(path, "utf8");
    expect(line).toMatch(
      /^\{"log":"hello\\n","stream":"stdout","time":"\d{4}-\d\d-\d\dT[\d:]{8}\.\d{9}Z"\}\n$/,
    );
  });

  test("splits chunks into lines and joins lines split across chunks", () => {
    const entries = writeAll([
      ["stdout", "hel"],
      ["stdout", "lo\nwor"],
      ["stdout", "ld\n\nlast"],
    ]);
    expect(entries.map((e) => e.log)).toEqual(["hello\n", "world\n", "\n", "last"]);
  });

  test("keeps the partial lines of each stream apart", () => {
    const entries = writeAll([
      ["stdout", "out "],
      ["stderr", "err\n"],
      ["stdout", "line\n"],
    ]);
    expect(entries.map((e) => [e.stream, e.log])).toEqual([
      ["stderr", "err\n"],
      ["stdout", "out line\n"],
    ]);
  });

  test("a partial line is emitted when the buffer fills, at flush, and at close", () => {
    const path = newPath();
    const writer = new LogWriter(path);
    writer.write("stdout", bytes("x".repeat(MAX_LINE_BYTES * 2 + 100)));
    expect(readLogs(path).map((e) => e.log.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES]);
    writer.write("stderr", bytes("no newline"));
    writer.flush("stderr");
    expect(readLogs(path).at(-1)).toMatchObject({ stream: "stderr", log: "no newline" });
    writer.close();
    expect(readLogs(path).map((e) => e.log.length)).toEqual([MAX_LINE_BYTES, MAX_LINE_BYTES, 10, 100]);
  });

  test("multi-byte UTF-8 split at every byte boundary is never corrupted", () => {
    const text = "héllo wörld — 日本語 😀 ok\n";
    const encoded = bytes(text);
    const chunks: ["stdout", Uint8Array][] = [];
    for (let i = 0; i <= encoded.length; i++) {
      chunks.push(["stdout", encoded.subarray(0, i)], ["stdout", encoded.subarray(i)]);
    }
    for (const byte of encoded) chunks.push(["stdout", Uint8Array.of(byte)]);
    const entries = writeAll(chunks);
    expect(entries).toHaveLength(encoded.length + 2);
    for (const entry of entries) expect(entry.log).toBe(text);
  });

  test("long lines of multi-byte characters are split between characters", () => {
    const line = `${"日本😀".repeat(3000)}\n`;
    const entries = writeAll([["stdout", line]]);
    expect(entries.length).toBeGreaterThan(1);
    expect(entries.map((e) => e.log).join("")).toBe(line);
    for (const entry of entries) {
      expect(Buffer.byteLength(entry.log)).toBeLessThanOrEqual(MAX_LINE_BYTES);
      expect(entry.log).not.toContain("\uFFFD");
    }
  });

  test("times have nanosecond digits and never go backwards", () => {
    const path = newPath();
    const writer = new LogWriter(path);
    for (let i = 0; i < 200; i++) writer.write("stdout", bytes(`${i}\n`));
    writer.close();
    const times = readLogs(path).map((e) => parseTimestampNanos(e.time)!);
    for (let i = 1; i < times.length; i++) expect(times[i]! > times[i - 1]!).toBe(true);
    const skew = Number(times.at(-1)! / 1_000_000n) - Date.now();
    expect(Math.abs(skew)).toBeLessThan(1000);
  });

  test.skipIf(!existsSync("/dev/full"))(
    "a full disk never throws and is recorded once in the a3s log",
    () => {
      const lines: string[] = [];
      configureLog({ dir: join(dir, "a3s-log"), mirror: (line) => lines.push(line) });
      const writer = new LogWriter("/dev/full");
      for (let i = 0; i < 5; i++) writer.write("stdout", bytes("lost\n"));
      writer.close();
      const errors = lines.filter((line) => line.includes("[box.logs]") && line.includes("ERROR"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain("/dev/full");
    },
  );
});

describe("readLogs", () => {
  test("a missing file has no entries", () => {
    expect(readLogs(join(dir, "never-written.json"))).toEqual([]);
    expect(readLogs(join(dir, "never-written.json"), { tail: 3 })).toEqual([]);
  });

  test("skips a torn last line and foreign lines", () => {
    const path = newPath();
    writeFileSync(path, `${at(1, "a\n")}not json\n${at(2, "b\n")}{"log":"torn`);
    expect(readLogs(path).map((e) => e.log)).toEqual(["a\n", "b\n"]);
    expect(readLogs(path, { tail: 1 }).map((e) => e.log)).toEqual(["b\n"]);
  });

  test("tail counts entries from the end, after the stream filter", () => {
    const path = newPath();
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) lines.push(at(i, `${i}\n`, i % 5 === 0 ? "stderr" : "stdout"));
    writeFileSync(path, lines.join(""));
    expect(readLogs(path, { tail: 3 }).map((e) => e.log)).toEqual(["47\n", "48\n", "49\n"]);
    expect(readLogs(path, { tail: 2, streams: ["stderr"] }).map((e) => e.log)).toEqual(["40\n", "45\n"]);
    expect(readLogs(path, { tail: 0 })).toEqual([]);
    expect(readLogs(path, { tail: 1000 })).toHaveLength(50);
    expect(readLogs(path, { tail: "all" })).toHaveLength(50);
  });

  test("tail of a large file reads only its end", () => {
    const path = newPath();
    const padding = "p".repeat(40);
    const parts: string[] = [];
    for (let i = 0; i < 100_000; i++) parts.push(at(1_700_000_000 + i, `line ${i} ${padding}\n`));
    writeFileSync(path, parts.join(""));
    const size = readFileSync(path).length;
    const started = performance.now();
    const entries = readLogs(path, { tail: 5 });
    const tailMs = performance.now() - started;
    const allStarted = performance.now();
    const all = readLogs(path);
    const allMs = performance.now() - allStarted;
    console.log(
      `tail 5 of ${(size / 1e6).toFixed(1)} MB, 100k lines: ${tailMs.toFixed(2)} ms (whole file: ${allMs.toFixed(0)} ms)`,
    );
    expect(entries.map((e) => e.log.split(" ")[1])).toEqual(["99995", "99996", "99997", "99998", "99999"]);
    expect(all).toHaveLength(100_000);
    // Lines longer than a read block are found whole.
    appendFileSync(path, at(1_800_000_000, `${"x".repeat(100_000)}\n`));
    expect(readLogs(path, { tail: 2 }).map((e) => e.log.length)).toEqual([
      `line 99999 ${padding}\n`.length,
      100_001,
    ]);
  });

  test("since and until are inclusive bounds", () => {
    const path = newPath();
    writeFileSync(path, [10, 20, 30, 40].map((s) => at(s, `${s}\n`)).join(""));
    const seconds = (s: number) => new Date(s * 1000);
    const logs = (options: Parameters<typeof readLogs>[1]) => readLogs(path, options).map((e) => e.log);
    expect(logs({ since: seconds(20) })).toEqual(["20\n", "30\n", "40\n"]);
    expect(logs({ until: seconds(30) })).toEqual(["10\n", "20\n", "30\n"]);
    expect(logs({ since: seconds(15), until: seconds(35) })).toEqual(["20\n", "30\n"]);
    expect(logs({ since: seconds(15), tail: 10 })).toEqual(["20\n", "30\n", "40\n"]);
    expect(logs({ until: seconds(25), tail: 1 })).toEqual(["20\n"]);
  });
});

describe("followLogs", () => {
  test("yields existing entries, then appended ones, and ends when done", async () => {
    const path = newPath();
    const writer = new LogWriter(path);
    writer.write("stdout", bytes("one\ntwo\n"));
    let done = false;
    const controller = new AbortController();
    const seen: string[] = [];
    const follower = (async () => {
      for await (const entry of followLogs(path, {
        tail: 1,
        signal: controller.signal,
        isDone: () => done,
        pollMs: 50,
      })) {
        seen.push(entry.log);
      }
    })();
    await eventually(() => seen.length === 1);
    writer.write("stdout", bytes("three\n"));
    writer.write("stderr", bytes("four"));
    await eventually(() => seen.length === 2);
    await Bun.sleep(100); // The partial "four" is not a line yet.
    expect(seen).toEqual(["two\n", "three\n"]);
    writer.close(); // Emits the partial "four".
    done = true;
    await follower;
    expect(seen).toEqual(["two\n", "three\n", "four"]);
  });

  test("ends on abort and when the file does not exist yet it waits for it", async () => {
    const path = newPath();
    const controller = new AbortController();
    const seen: string[] = [];
    const follower = (async () => {
      for await (const entry of followLogs(path, {
        signal: controller.signal,
        isDone: () => false,
        pollMs: 50,
      })) {
        seen.push(entry.log);
      }
    })();
    await Bun.sleep(60);
    expect(existsSync(path)).toBe(false);
    const writer = new LogWriter(path);
    writer.write("stdout", bytes("late\n"));
    writer.close();
    await eventually(() => seen.length === 1);
    controller.abort();
    await follower;
    expect(seen).toEqual(["late\n"]);
  });
});

describe("parseSince", () => {
  const now = new Date("2026-11-21T12:00:00Z");

  test("relative durations count back from now", () => {
    expect(parseSince("10m", now).toISOString()).toBe("2026-11-21T11:50:00.000Z");
    expect(parseSince("1h30m", now).toISOString()).toBe("2026-11-21T10:30:00.000Z");
    expect(parseSince("42s", now).toISOString()).toBe("2026-11-21T11:59:18.000Z");
    expect(parseSince("2h", now).toISOString()).toBe("2026-11-21T10:00:00.000Z");
    expect(parseSince("1.5h", now).toISOString()).toBe("2026-11-21T10:30:00.000Z");
  });

  test("Unix timestamps, with or without a fraction", () => {
    expect(parseSince("1700000000", now).getTime()).toBe(1_700_000_000_000);
    expect(parseSince("1700000000.123", now).getTime()).toBe(1_700_000_000_123);
    expect(parseSince("0", now).getTime()).toBe(0);
  });

  test("RFC3339 timestamps, with or without fraction and zone", () => {
    expect(parseSince("2026-11-21T01:02:03Z", now).toISOString()).toBe("2026-11-21T01:02:03.000Z");
    expect(parseSince("2026-11-21T01:02:03.456789Z", now).toISOString()).toBe("2026-11-21T01:02:03.456Z");
    expect(parseSince("2026-11-21T01:02:03+02:00", now).toISOString()).toBe("2026-11-20T23:02:03.000Z");
    // Without a zone Docker reads local time.
    expect(parseSince("2026-11-21T01:02:03", now).getTime()).toBe(new Date(2026, 10, 21, 1, 2, 3).getTime());
    expect(parseSince("2026-11-21", now).getTime()).toBe(new Date(2026, 10, 21).getTime());
  });

  test("anything else is a usage error", () => {
    for (const bad of ["", "yesterday", "10x", "2026-13-01T00:00:00Z", "2026-11-31", "12:00", "-5"]) {
      expect(() => parseSince(bad, now)).toThrow(A3sError);
      try {
        parseSince(bad, now);
      } catch (err) {
        expect((err as A3sError).code).toBe("usage");
      }
    }
  });
});

describe("formatLogEntry", () => {
  const entry: LogEntry = { log: "hello\n", stream: "stdout", time: "2026-11-21T01:02:03.123456789Z" };

  test("prints the log text, with -t the RFC3339Nano time first", () => {
    expect(formatLogEntry(entry, { timestamps: false })).toBe("hello\n");
    expect(formatLogEntry(entry, { timestamps: true })).toBe("2026-11-21T01:02:03.123456789Z hello\n");
  });

  test("timestamps round-trip and Docker's trimmed fractions are padded", () => {
    const nanos = parseTimestampNanos(entry.time)!;
    expect(nanos).toBe(1_795_222_923_123_456_789n);
    expect(formatTimestamp(nanos)).toBe(entry.time);
    expect(formatLogEntry({ ...entry, time: "2026-11-21T01:02:03.1Z" }, { timestamps: true })).toBe(
      "2026-11-21T01:02:03.100000000Z hello\n",
    );
    expect(formatTimestamp(parseTimestampNanos("2026-11-21T03:02:03.5+02:00")!)).toBe(
      "2026-11-21T01:02:03.500000000Z",
    );
  });
});
