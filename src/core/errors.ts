/**
 * The one error type of a3s. Every failure a user can see is an A3sError with a code;
 * the code decides the process exit status through EXIT_CODES, so exit codes are
 * defined here and nowhere else.
 */

export const EXIT_CODES = {
  internal: 1,
  usage: 2,
  not_found: 3,
  conflict: 4,
  network: 5,
  integrity: 6,
  permission: 7,
  runtime: 8,
  unimplemented: 9,
  /** A server's request queue is full (HTTP 503); retrying later helps. */
  busy: 10,
  interrupted: 130,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

export interface A3sErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Overrides the code's exit status where a command mirrors another tool (docker run's 125/126/127). */
  exitCode?: number;
}

export class A3sError extends Error {
  override readonly name = "A3sError";
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: A3sErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT_CODES[code];
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

export function isA3sError(value: unknown): value is A3sError {
  return value instanceof A3sError;
}

/** Errors from Node/Bun system calls carry an errno code; map the common ones to ours. */
export function fromSystemError(err: unknown, what: string): A3sError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "ENOENT":
      return new A3sError("not_found", `${what}: no such file or directory`, { cause: err });
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new A3sError("permission", `${what}: permission denied`, { cause: err });
    case "EEXIST":
      return new A3sError("conflict", `${what}: already exists`, { cause: err });
    default:
      return new A3sError("internal", `${what}: ${detail}`, { cause: err });
  }
}
