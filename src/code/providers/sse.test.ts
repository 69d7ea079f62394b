import { describe, expect, test } from "bun:test";
import { parseSse, type SseEvent } from "./sse.ts";

async function collect(chunks: (string | Uint8Array)[]): Promise<SseEvent[]> {
  async function* source() {
    for (const chunk of chunks) yield chunk;
  }
  const events: SseEvent[] = [];
  for await (const event of parseSse(source())) events.push(event);
  return events;
}

/** Splits bytes into pieces of `size` (1 = every byte alone). */
function bytesIn(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

const ANTHROPIC = [
  "event: message_start",
  'data: {"type":"message_start"}',
  "",
  "event: ping",
  'data: {"type": "ping"}',
  "",
  "event: content_block_delta",
  'data: {"type":"content_block_delta","delta":{"type":"text_delta","text":"héllo 🌍"}}',
  "",
  "",
].join("\n");

describe("parseSse", () => {
  test("named events with data, in order", async () => {
    const events = await collect([ANTHROPIC]);
    expect(events.map((e) => e.event)).toEqual(["message_start", "ping", "content_block_delta"]);
    expect(JSON.parse(events[2]!.data).delta.text).toBe("héllo 🌍");
  });

  test("the same events whatever the byte boundaries, including inside UTF-8 sequences", async () => {
    const whole = await collect([ANTHROPIC]);
    for (const size of [1, 2, 3, 5, 7, 64]) {
      expect(await collect(bytesIn(ANTHROPIC, size))).toEqual(whole);
    }
  });

  test("CRLF and lone CR line endings, even with CR and LF in different chunks", async () => {
    const crlf = ANTHROPIC.replaceAll("\n", "\r\n");
    const cr = ANTHROPIC.replaceAll("\n", "\r");
    const expected = await collect([ANTHROPIC]);
    expect(await collect([crlf])).toEqual(expected);
    expect(await collect(bytesIn(crlf, 1))).toEqual(expected);
    expect(await collect(bytesIn(crlf, 4))).toEqual(expected);
    expect(await collect([cr])).toEqual(expected);
  });

  test("multi-line data joins with newlines; comments and unknown fields are ignored", async () => {
    const text = ": keep-alive\n\ndata: first\ndata:second\nretry: 100\nfoo: bar\nid: 7\n\n: ping\n\n";
    expect(await collect([text])).toEqual([{ event: "message", data: "first\nsecond", id: "7" }]);
  });

  test("OpenAI-style data-only events and the [DONE] sentinel", async () => {
    const text = 'data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n';
    const events = await collect(bytesIn(text, 3));
    expect(events.map((e) => e.data)).toEqual(['{"a":1}', '{"a":2}', "[DONE]"]);
    expect(events.every((e) => e.event === "message")).toBe(true);
  });

  test("a final event without a trailing blank line is still delivered; a BOM is skipped", async () => {
    expect(await collect(["\uFEFFdata: x\n\ndata: last"])).toEqual([
      { event: "message", data: "x" },
      { event: "message", data: "last" },
    ]);
  });

  test("an event name without data dispatches nothing and does not leak into the next event", async () => {
    expect(await collect(["event: ping\n\ndata: y\n\n"])).toEqual([{ event: "message", data: "y" }]);
  });
});
