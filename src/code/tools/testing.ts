/** Helpers for the tools' tests: a temp workspace and a ToolContext pointing at it. */
import { afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigSchema } from "../../core/config.ts";
import { pathsFor } from "../../core/paths.ts";
import type { ToolContext } from "../types.ts";

/** A fresh directory (real path, so symlink checks compare like with like), removed after the file's tests. */
export function tempDir(prefix = "a3s-tools-"): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files given as { "relative/path": "content" }, creating directories. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

export function toolContext(cwd: string, overrides: Partial<ToolContext> = {}): ToolContext {
  // The test preload points A3S_HOME at a temp directory.
  const home = pathsFor(process.env.A3S_HOME ?? join(tmpdir(), "a3s-home"));
  return {
    cwd,
    extraDirs: [],
    env: { ...process.env },
    signal: new AbortController().signal,
    home: { paths: home, config: ConfigSchema.parse({}) },
    state: new Map(),
    ...overrides,
  };
}
