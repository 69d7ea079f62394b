/**
 * Drives the compiled binary the way users do: builds dist/a3s once per test run, then runs it with
 * an isolated A3S_HOME. A failed expectation shows the tail of stderr, which is usually the story.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
export const BINARY = join(ROOT, "dist", "a3s");

let built: Promise<void> | undefined;

export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    const build = Bun.spawn([process.execPath, join(ROOT, "scripts/build.ts")], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    if ((await build.exited) !== 0) {
      throw new Error(`build failed:\n${await new Response(build.stderr).text()}`);
    }
  })();
  return built;
}

export function tempHome(): string {
  return join(mkdtempSync(join(tmpdir(), "a3s-e2e-")), ".a3s");
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON; throws with stderr's tail when it is not JSON. */
  json<T = unknown>(): T;
}

export interface RunOptions {
  home?: string;
  env?: Record<string, string | undefined>;
  stdin?: string;
  cwd?: string;
}

export async function a3s(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  await ensureBuilt();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...options.env })) {
    if (value !== undefined) env[key] = value;
  }
  env.A3S_HOME = options.home ?? tempHome();
  const child = Bun.spawn([BINARY, ...args], {
    env,
    cwd: options.cwd ?? ROOT,
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return {
    code,
    stdout,
    stderr,
    json<T>() {
      try {
        return JSON.parse(stdout) as T;
      } catch {
        throw new Error(
          `a3s ${args.join(" ")}: stdout is not JSON:\n${stdout}\n--- stderr tail ---\n${tail(stderr)}`,
        );
      }
    },
  };
}

/** Asserts the exit code, failing with the command line and stderr's tail. */
export function expectExit(result: RunResult, code: number): RunResult {
  if (result.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${result.code}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr tail ---\n${tail(result.stderr)}`,
    );
  }
  return result;
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
