/**
 * Prompt history, newest last. Kept in memory and, when given a file, appended to it as JSON
 * lines (entries may span lines). The file is a convenience: failing to read or write it never
 * interrupts the session.
 */
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

const MAX_ENTRIES = 500;

export class History {
  private readonly entries: string[];

  constructor(private readonly file?: string) {
    this.entries = file ? load(file) : [];
  }

  get all(): readonly string[] {
    return this.entries;
  }

  add(entry: string): void {
    if (entry.trim() === "" || this.entries.at(-1) === entry) return;
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    if (!this.file) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    } catch {
      // A read-only home only costs persistence.
    }
  }
}

function load(file: string): string[] {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const entries: string[] = [];
  for (const line of raw.split("\n")) {
    if (line === "") continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === "string") entries.push(value);
    } catch {
      // A torn last line from a crash is skipped, the rest kept.
    }
  }
  return entries.slice(-MAX_ENTRIES);
}

/**
 * Walks the history from the newest entry; remembers the draft being typed so Down past the
 * newest entry restores it.
 */
export class HistoryCursor {
  private index: number;
  private draft = "";

  constructor(private readonly history: History) {
    this.index = history.all.length;
  }

  reset(): void {
    this.index = this.history.all.length;
  }

  older(current: string): string | undefined {
    if (this.index === 0) return undefined;
    if (this.index === this.history.all.length) this.draft = current;
    this.index--;
    return this.history.all[this.index];
  }

  newer(): string | undefined {
    if (this.index >= this.history.all.length) return undefined;
    this.index++;
    return this.index === this.history.all.length ? this.draft : this.history.all[this.index];
  }
}
