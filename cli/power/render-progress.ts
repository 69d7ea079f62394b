/**
 * Renders a pull's or a push's event stream the way `ollama pull` / `ollama push` do: a line per
 * status on a terminal, with a progress bar for each blob; each status once in a pipe; Ollama's JSON
 * messages with --json.
 */
import type { PullEvent as ProgressEvent } from "../../src/power/pull.ts";
import type { Output } from "../output.ts";
import { ProgressView } from "../progress.ts";

export interface ProgressRenderer {
  onEvent(event: ProgressEvent): void;
  done(): void;
}

/** Ollama's format.HumanBytes: "59 B", "1.4 KB", "17 MB", "2.0 GB". */
export function humanBytes(bytes: number): string {
  const units: Array<[number, string]> = [
    [1e12, "TB"],
    [1e9, "GB"],
    [1e6, "MB"],
    [1e3, "KB"],
  ];
  const found = units.find(([size]) => bytes >= size);
  if (!found) return `${bytes} B`;
  const value = bytes / found[0];
  if (value >= 10) return `${Math.trunc(value)} ${found[1]}`;
  return Number.isInteger(value) ? `${value} ${found[1]}` : `${value.toFixed(1)} ${found[1]}`;
}

const BAR_WIDTH = 30;

/** `pulling dde5aa3fc5ff:  45% ▕█████████           ▏ 912 MB/2.0 GB` */
export function formatBlobLine(event: ProgressEvent): string {
  const total = event.total ?? 0;
  const completed = event.completed ?? 0;
  const ratio = total > 0 ? Math.min(1, completed / total) : 1;
  const filled = Math.floor(ratio * BAR_WIDTH);
  const bar = `▕${"█".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}▏`;
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  const amount = completed >= total ? humanBytes(total) : `${humanBytes(completed)}/${humanBytes(total)}`;
  return `${event.status}: ${percent} ${bar} ${amount}`;
}

export function progressRenderer(out: Output): ProgressRenderer {
  if (out.json) return { onEvent: (event) => out.jsonLine(event), done: () => {} };
  if (out.quiet) return { onEvent: () => {}, done: () => {} };
  if (!out.interactive) {
    const seen = new Set<string>();
    return {
      onEvent(event) {
        if (seen.has(event.status)) return;
        seen.add(event.status);
        out.stderr.write(`${event.status}\n`);
      },
      done() {},
    };
  }
  const view = new ProgressView(out.stderr, true);
  return {
    onEvent(event) {
      view.update(event.status, event.digest ? formatBlobLine(event) : event.status);
    },
    done: () => view.done(),
  };
}
