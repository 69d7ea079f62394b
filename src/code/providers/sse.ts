/**
 * Server-Sent Events, parsed as the WHATWG spec describes the event stream: lines end in CRLF,
 * LF or CR, `data:` lines accumulate (joined by "\n"), `:` lines are comments (keep-alive pings),
 * a blank line dispatches. Bytes may be split anywhere by the network, including inside a UTF-8
 * sequence or between the CR and LF of one line ending.
 */

export interface SseEvent {
  /** The `event:` field; "message" when the server named none. */
  event: string;
  data: string;
  id?: string;
}

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder("utf-8");
  const parser = new SseLineParser();
  for await (const chunk of body) {
    const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    yield* parser.push(text);
  }
  yield* parser.push(decoder.decode());
  yield* parser.end();
}

class SseLineParser {
  private buffer = "";
  private first = true;
  /** The previous chunk ended in CR: an LF starting this one belongs to that line ending. */
  private pendingCr = false;
  private event = "";
  private data: string[] = [];
  private id: string | undefined;

  *push(text: string): Generator<SseEvent> {
    if (text === "") return;
    if (this.first) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      const event = this.line(line);
      if (event) yield event;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** A stream that ends without a final blank line still delivers its last complete event. */
  *end(): Generator<SseEvent> {
    if (this.buffer !== "") {
      const event = this.line(this.buffer);
      this.buffer = "";
      if (event) yield event;
    }
    const event = this.line("");
    if (event) yield event;
  }

  private line(line: string): SseEvent | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      // `retry:` tunes browser reconnection, which a one-shot request does not do.
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = "";
    if (data.length === 0) return undefined;
    const out: SseEvent = { event: event || "message", data: data.join("\n") };
    if (this.id !== undefined) out.id = this.id;
    return out;
  }
}
