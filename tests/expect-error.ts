/** Assertions on a3s's errors, shared by unit tests. */
import { expect } from "bun:test";
import { A3sError, type ErrorCode } from "../src/core/errors.ts";

/** Runs `fn`, asserts it threw an A3sError with `code` whose message matches `fragment`; returns it. */
export function expectA3sError(fn: () => unknown, code: ErrorCode, fragment?: string | RegExp): A3sError {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(A3sError);
  expect((error as A3sError).code).toBe(code);
  if (fragment !== undefined) expect((error as A3sError).message).toMatch(fragment);
  return error as A3sError;
}

/** `expectA3sError(fn, "usage", fragment)`: a bad value named in the message. */
export function expectUsage(fn: () => unknown, fragment: string | RegExp): A3sError {
  return expectA3sError(fn, "usage", fragment);
}

/** Awaits `promise`, asserts it rejected with an A3sError with `code` (and `fragment`); returns it. */
export async function expectA3sErrorAsync(
  promise: Promise<unknown>,
  code: ErrorCode,
  fragment?: string | RegExp,
): Promise<A3sError> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(A3sError);
  expect((error as A3sError).code).toBe(code);
  if (fragment !== undefined) expect((error as A3sError).message).toMatch(fragment);
  return error as A3sError;
}
