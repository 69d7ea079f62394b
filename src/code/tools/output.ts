/**
 * Bounded capture of long output: the first and the last part are kept (that is where the command
 * line echo, the error and the summary usually are) with a note of how much was cut between them.
 */

/** A cut is moved to a line boundary when one is this close, so no line is shown half. */
const SNAP_BYTES = 1_000;

export class CappedOutput {
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private readonly tail: Buffer[] = [];
  private tailLength = 0;
  private totalBytes = 0;
  private totalLines = 0;

  constructor(
    private readonly headBytes: number,
    private readonly tailBytes: number,
  ) {}

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    this.totalLines += countNewlines(chunk);
    let rest = chunk;
    if (this.headLength < this.headBytes) {
      const take = rest.subarray(0, this.headBytes - this.headLength);
      this.head.push(take);
      this.headLength += take.length;
      rest = rest.subarray(take.length);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailLength += rest.length;
    while (this.tail.length > 1 && this.tailLength - this.tail[0]!.length >= this.tailBytes) {
      this.tailLength -= this.tail.shift()!.length;
    }
  }

  get bytes(): number {
    return this.totalBytes;
  }

  text(): string {
    let head = Buffer.concat(this.head);
    const kept = Buffer.concat(this.tail);
    let tail = kept.length > this.tailBytes ? kept.subarray(kept.length - this.tailBytes) : kept;
    if (head.length + tail.length === this.totalBytes) return Buffer.concat([head, tail]).toString("utf8");
    const lastNewline = head.lastIndexOf(10);
    if (lastNewline >= 0 && head.length - lastNewline <= SNAP_BYTES) head = head.subarray(0, lastNewline + 1);
    const firstNewline = tail.indexOf(10);
    if (firstNewline >= 0 && firstNewline < SNAP_BYTES) tail = tail.subarray(firstNewline + 1);
    const omittedBytes = this.totalBytes - head.length - tail.length;
    const omittedLines = this.totalLines - countNewlines(head) - countNewlines(tail);
    const before = head.at(-1) === 10 || head.length === 0 ? "" : "\n";
    const note = `${before}[… ${omittedBytes} bytes (${omittedLines} lines) of output omitted …]\n`;
    return `${head.toString("utf8")}${note}${tail.toString("utf8")}`;
  }
}

function countNewlines(buffer: Buffer): number {
  let count = 0;
  for (let at = buffer.indexOf(10); at >= 0; at = buffer.indexOf(10, at + 1)) count++;
  return count;
}

// CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks).
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/**
 * What a terminal would finally show: escape sequences removed, and for progress bars redrawn with
 * a carriage return only the last state of each line.
 */
export function terminalText(text: string): string {
  return text
    .replace(ANSI, "")
    .split("\n")
    .map((line) => {
      const body = line.endsWith("\r") ? line.slice(0, -1) : line;
      const at = body.lastIndexOf("\r");
      return at < 0 ? line : body.slice(at + 1);
    })
    .join("\n");
}
