/**
 * A small file logger. Each process appends to ~/.a3s/logs/a3s-YYYY-MM-DD.log; with -v the same
 * lines are mirrored to stderr. Until configureLog() is called (tests, library use) nothing is written.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

interface LogState {
  file: string | undefined;
  level: LogLevel;
  mirror: ((line: string) => void) | undefined;
}

const state: LogState = { file: undefined, level: "info", mirror: undefined };

export interface LogOptions {
  dir: string;
  level?: LogLevel;
  /** Receives every line as well (the CLI passes a stderr writer under -v). */
  mirror?: (line: string) => void;
  now?: Date;
}

export function logFileFor(dir: string, now: Date = new Date()): string {
  return join(dir, `a3s-${now.toISOString().slice(0, 10)}.log`);
}

export function configureLog(options: LogOptions): string {
  state.file = logFileFor(options.dir, options.now);
  state.level = options.level ?? (options.mirror ? "debug" : "info");
  state.mirror = options.mirror;
  return state.file;
}

export function currentLogFile(): string | undefined {
  return state.file;
}

function write(level: LogLevel, scope: string, message: string, fields?: Record<string, unknown>): void {
  if (RANK[level] < RANK[state.level]) return;
  const extra = fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : "";
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} pid=${process.pid} [${scope}] ${message}${extra}\n`;
  state.mirror?.(line);
  if (state.file === undefined) return;
  try {
    appendFileSync(state.file, line);
  } catch {
    // The log directory may not exist yet, or be unwritable; logging must never fail a command.
    try {
      mkdirSync(join(state.file, ".."), { recursive: true });
      appendFileSync(state.file, line);
    } catch {
      state.file = undefined;
    }
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v) =>
      v instanceof Error ? { name: v.name, message: v.message } : v,
    );
  } catch {
    return String(value);
  }
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A logger whose lines name the module they come from: `const log = logger("box.pull")`. */
export function logger(scope: string): Logger {
  return {
    debug: (m, f) => write("debug", scope, m, f),
    info: (m, f) => write("info", scope, m, f),
    warn: (m, f) => write("warn", scope, m, f),
    error: (m, f) => write("error", scope, m, f),
  };
}
