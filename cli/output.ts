/**
 * Everything a command prints goes through here: data to stdout, diagnostics to stderr,
 * JSON when --json is set, Docker-style tables and templates otherwise.
 */
import { A3sError } from "../src/core/errors.ts";

export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  color: boolean;
  verbose: boolean;
  stdout: Stream;
  stderr: Stream;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
}

const GAP = "   ";

/** Aligns rows under upper-case headers with three spaces between columns, as `docker ps` does. */
export function formatTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => displayWidth(line[i] ?? ""))),
  );
  const render = (line: readonly string[]) =>
    line
      .map((cell, i) => (i === line.length - 1 ? cell : padEnd(cell, widths[i] ?? 0)))
      .join(GAP)
      .trimEnd();
  return `${[render(columns.map((c) => c.header)), ...cells.map(render)].join("\n")}\n`;
}

/** Width in terminal cells: wide (CJK) characters take two, combining marks none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of stripAnsi(text)) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 32 || (code >= 0x300 && code <= 0x36f)) continue;
    width += isWide(code) ? 2 : 1;
  }
  return width;
}

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}

export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/**
 * Renders a Go-template-like --format string the way Docker users write them:
 * `{{.ID}}\t{{.Names}}`, `{{json .}}`, `{{json .Labels}}`, `{{.Field | upper}}` is not supported.
 */
export function renderTemplate(template: string, row: Record<string, unknown>): string {
  const expanded = template.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  return expanded.replace(/\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}/g, (_match, json, path: string) => {
    const value = path === "" ? row : lookup(row, path);
    if (value === undefined) {
      throw new A3sError("usage", `template: field '.${path}' does not exist`, {
        hint: `available fields: ${Object.keys(row).join(", ")}`,
      });
    }
    if (json) return JSON.stringify(value);
    return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  });
}

function lookup(row: Record<string, unknown>, path: string): unknown {
  let current: unknown = row;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object" || !(key in current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, cyan: 36 } as const;
export type Style = keyof typeof ANSI;

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly stdout: Stream;
  readonly stderr: Stream;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.verbose = options.verbose;
    this.color = options.color;
    this.stdout = options.stdout;
    this.stderr = options.stderr;
  }

  /** True when progress may be drawn: stderr is a terminal and the user did not ask for silence. */
  get interactive(): boolean {
    return Boolean(this.stderr.isTTY) && !this.json && !this.quiet;
  }

  style(style: Style, text: string): string {
    return this.color ? `\x1b[${ANSI[style]}m${text}\x1b[0m` : text;
  }

  /** A line of data on stdout. */
  line(text = ""): void {
    this.stdout.write(`${text}\n`);
  }

  /** One JSON document on stdout, indented for people; scripts parse it all the same. */
  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON Lines record on stdout, for streams of events. */
  jsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  table<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): void {
    this.stdout.write(formatTable(rows, columns));
  }

  /**
   * Prints a list the way Docker's --format does: `table` (default), `json` (one object per line)
   * or a Go-style template applied to each row.
   */
  list<Row extends Record<string, unknown>>(
    rows: readonly Row[],
    columns: readonly Column<Row>[],
    format?: string,
  ): void {
    if (this.json || format === "json") {
      if (this.json) this.printJson(rows);
      else for (const row of rows) this.jsonLine(row);
      return;
    }
    if (format === undefined || format === "" || format === "table") {
      this.table(rows, columns);
      return;
    }
    const template = format.startsWith("table ") ? format.slice(6) : format;
    for (const row of rows) this.line(renderTemplate(template, row));
  }

  /** A diagnostic on stderr, silenced by -q and --json. */
  info(message: string): void {
    if (!this.quiet && !this.json) this.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    this.stderr.write(`${this.style("yellow", "warning:")} ${message}\n`);
  }

  debug(message: string): void {
    if (this.verbose) this.stderr.write(`${this.style("dim", `debug: ${message}`)}\n`);
  }
}
