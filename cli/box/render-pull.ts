/**
 * Renders a pull's event stream the way `docker pull` does: redrawn per-layer lines on a terminal,
 * status lines in a pipe, JSON Lines with --json.
 */
import type { PullEvent } from "../../src/box/oci/pull.ts";
import type { Output } from "../output.ts";
import { formatBar, formatBytes, ProgressView } from "../progress.ts";

export interface PullRenderer {
  onEvent(event: PullEvent): void;
  done(): void;
}

export function pullRenderer(out: Output): PullRenderer {
  if (out.json) return { onEvent: (event) => out.jsonLine(event), done: () => {} };
  if (out.quiet) return { onEvent: () => {}, done: () => {} };
  if (!out.interactive) {
    // In a pipe, Docker prints each status change once, without the byte counters.
    let last = new Map<string, string>();
    return {
      onEvent(event) {
        if (event.status === "Downloading" || event.status === "Extracting") return;
        const line = event.id ? `${event.id}: ${event.status}` : event.status;
        if (event.id && last.get(event.id) === event.status) return;
        if (event.id) last.set(event.id, event.status);
        out.stderr.write(`${line}\n`);
      },
      done() {
        last = new Map();
      },
    };
  }
  const view = new ProgressView(out.stderr, true);
  return {
    onEvent(event) {
      if (!event.id || event.status.startsWith("Pulling from")) {
        view.update(event.status, event.status);
        return;
      }
      const detail = event.progressDetail;
      const counter = detail?.total
        ? ` ${formatBar(detail.current, detail.total)}  ${formatBytes(detail.current)}/${formatBytes(detail.total)}`
        : "";
      view.update(event.id, `${event.id}: ${event.status}${counter}`);
    },
    done: () => view.done(),
  };
}
