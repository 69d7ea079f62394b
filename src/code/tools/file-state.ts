/**
 * When the model last saw each file: a file read, written or edited in this session and changed
 * since (by a formatter, a git checkout, the user) must be read again before it is changed, so an
 * edit never silently undoes work the model has not seen. Files never read may be edited freely.
 */
import { statSync } from "node:fs";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext } from "../types.ts";
import { realPathOf } from "./paths.ts";

const KEY = "fileTimes";

function times(ctx: Pick<ToolContext, "state">): Map<string, number> {
  let map = ctx.state.get(KEY) as Map<string, number> | undefined;
  if (map === undefined) {
    map = new Map();
    ctx.state.set(KEY, map);
  }
  return map;
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Called after a file was read or written: its current version is the one the model knows. */
export function rememberFile(ctx: Pick<ToolContext, "state">, path: string): void {
  const now = mtime(path);
  if (now !== undefined) times(ctx).set(realPathOf(path), now);
}

export function checkUnchanged(ctx: Pick<ToolContext, "state">, path: string, shown: string): void {
  const known = times(ctx).get(realPathOf(path));
  const now = mtime(path);
  if (known === undefined || now === undefined || now === known) return;
  throw new A3sError("conflict", `${shown} was modified since you last read it`, {
    hint: "read it again, then redo the change against its current content",
  });
}
