/**
 * Multi-line progress on a terminal, one line per task (a layer, a blob), redrawn in place the way
 * `docker pull` does. Off a TTY it draws nothing: callers print their own plain or JSON lines.
 */
import type { Stream } from "./output.ts";

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)}${units[unit]}`;
}

/** `[=====>      ]` of the given width; an unknown total draws an empty bar. */
export function formatBar(current: number, total: number | undefined, width = 50): string {
  if (total === undefined || total <= 0) return `[${" ".repeat(width)}]`;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const head = filled < width ? ">" : "";
  return `[${"=".repeat(filled)}${head}${" ".repeat(Math.max(0, width - filled - head.length))}]`;
}

export class ProgressView {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private dirty = false;

  constructor(
    private readonly stream: Stream,
    private readonly enabled: boolean,
    intervalMs = 100,
  ) {
    if (enabled) this.timer = setInterval(() => this.flush(), intervalMs);
  }

  /** Sets the text of a task's line; new tasks are appended below the existing ones. */
  update(id: string, text: string): void {
    if (!this.enabled) return;
    if (!this.lines.has(id)) this.order.push(id);
    this.lines.set(id, text);
    this.dirty = true;
  }

  flush(): void {
    if (!this.enabled || !this.dirty) return;
    const columns = this.stream.columns || 120; // 0 when the terminal size is unknown
    let frame = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const id of this.order) frame += `\x1b[2K${(this.lines.get(id) ?? "").slice(0, columns - 1)}\n`;
    this.stream.write(frame);
    this.drawn = this.order.length;
    this.dirty = false;
  }

  /** Draws the final state and stops redrawing; later output appears below the progress lines. */
  done(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
