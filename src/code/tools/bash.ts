/**
 * The bash tool: one command, a fresh `bash -c` in the workspace, in its own process group so a
 * timeout or an interruption kills everything it started. stderr is merged into stdout inside the
 * shell, so the model sees both in the order they were written.
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { ToolContext, ToolResult } from "../types.ts";
import { CappedOutput, terminalText } from "./output.ts";
import { defineTool } from "./tool.ts";

export const DEFAULT_TIMEOUT_MS = 120_000;
export const MAX_TIMEOUT_MS = 600_000;
/** Between SIGTERM and SIGKILL: time for test runners and servers to clean up. */
const KILL_GRACE_MS = 2_000;
/** After the shell exits, how long output still in the pipes is waited for (background jobs may hold them). */
const DRAIN_MS = 200;
const HEAD_BYTES = 15_000;
const TAIL_BYTES = 15_000;

const input = z.object({
  command: z.string().min(1).describe("The command to run, e.g. `npm test` or `git status --short`"),
  timeout: z
    .number()
    .int()
    .min(1)
    .max(MAX_TIMEOUT_MS)
    .optional()
    .describe(`Timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS}, max ${MAX_TIMEOUT_MS})`),
  description: z
    .string()
    .optional()
    .describe("What the command does in 5-10 words, shown to the user, e.g. 'Run the unit tests'"),
});

type Input = z.infer<typeof input>;

const DESCRIPTION = `Runs a shell command with bash in the workspace directory and returns its output (stdout and stderr interleaved) and exit code.

- Use it for builds, tests, git, package managers and other terminal work. For files prefer the dedicated tools: read (not cat/head/tail), grep (not grep/rg), glob (not find), ls, edit/write (not sed or echo >).
- Every call starts a fresh shell: cd, variables and aliases do not carry over. Chain steps with && and use paths relative to the workspace.
- Nothing can be typed into the command (stdin is empty): use non-interactive flags (--yes, -y, --no-edit) and avoid editors and pagers.
- Timeout: ${DEFAULT_TIMEOUT_MS / 1000} s by default, at most ${MAX_TIMEOUT_MS / 1000} s; when it expires the command and everything it started are killed.
- Output over ~${(HEAD_BYTES + TAIL_BYTES) / 1000}k characters is cut in the middle (the start and the end are kept); filter with grep, head or tail when you need a specific part.
- Quote paths that contain spaces. To leave a server running, start it in the background with its output redirected: nohup cmd > server.log 2>&1 &`;

/** The argv for a command: bash on the host, or sh inside a throwaway box of ctx.sandboxImage. */
export function shellArgv(
  command: string,
  ctx: Pick<ToolContext, "cwd" | "extraDirs" | "sandboxImage" | "home">,
  /** How to run a3s itself (selfCommand()); only used with a sandbox image. */
  self: readonly string[] = [],
): string[] {
  // Same line as the command, so the shell's "line N:" messages keep the model's numbering.
  const script = `exec 2>&1; ${command}`;
  if (ctx.sandboxImage === undefined) return ["bash", "-c", script];
  const mounts = [ctx.cwd, ...ctx.extraDirs].flatMap((dir) => ["-v", `${dir}:${dir}`]);
  return [
    ...self,
    "--home",
    ctx.home.paths.home,
    "box",
    "run",
    "--rm",
    ...mounts,
    "-w",
    ctx.cwd,
    ctx.sandboxImage,
    "sh",
    "-c",
    script,
  ];
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stopped?: "timeout" | "interrupted";
  output: string;
  ms: number;
}

async function runCommand(command: string, timeoutMs: number, ctx: ToolContext): Promise<Outcome> {
  const started = performance.now();
  // Loaded only for --sandbox: the box modules are not needed to run bash on the host.
  const self = ctx.sandboxImage === undefined ? [] : (await import("../../box/lifecycle.ts")).selfCommand();
  const [program = "bash", ...args] = shellArgv(command, ctx, self);
  const child = spawn(program, args, {
    cwd: ctx.cwd,
    env: { ...ctx.env, PAGER: "cat", GIT_PAGER: "cat" },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = new CappedOutput(HEAD_BYTES, TAIL_BYTES);
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk));
  let stopped: Outcome["stopped"];
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = (why: NonNullable<Outcome["stopped"]>) => {
    if (stopped !== undefined || child.pid === undefined) return;
    stopped = why;
    killGroup(child.pid, "SIGTERM");
    killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop("timeout"), timeoutMs);
  const onAbort = () => stop("interrupted");
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (code, signal) => resolve({ code, signal }));
      },
    );
    // What ignored SIGTERM inside the group goes now; the shell that led it has exited.
    if (stopped !== undefined && child.pid !== undefined) killGroup(child.pid, "SIGKILL");
    await drained(child.stdout, child.stderr);
    return {
      code,
      signal,
      ...(stopped ? { stopped } : {}),
      output: output.text(),
      ms: performance.now() - started,
    };
  } catch (err) {
    throw new A3sError("runtime", `cannot run ${program}: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
    ctx.signal.removeEventListener("abort", onAbort);
    child.stdout.destroy();
    child.stderr.destroy();
  }
}

function drained(...streams: Readable[]): Promise<void> {
  const closed = streams.map((stream) =>
    stream.closed ? Promise.resolve() : new Promise<void>((resolve) => stream.once("close", resolve)),
  );
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_MS));
  return Promise.race([Promise.all(closed).then(() => {}), timeout]);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function formatOutcome(outcome: Outcome, timeoutMs: number): ToolResult {
  const body = terminalText(outcome.output).trimEnd();
  const shown = body === "" ? "(no output)" : body;
  if (outcome.stopped === "timeout") {
    const limit = `${timeoutMs / 1000} s`;
    return {
      content: `${shown}\n\nCommand timed out after ${limit}; it and every process it started were killed.`,
      isError: true,
      summary: `timed out after ${limit}`,
    };
  }
  if (outcome.stopped === "interrupted") {
    return {
      content: `${shown}\n\nCommand interrupted by the user; it and every process it started were killed.`,
      isError: true,
      summary: "interrupted",
    };
  }
  if (outcome.code === null) {
    return {
      content: `${shown}\n\nCommand killed by ${outcome.signal}.`,
      isError: true,
      summary: `killed by ${outcome.signal} after ${seconds(outcome.ms)}`,
    };
  }
  const summary = `exit ${outcome.code} after ${seconds(outcome.ms)}`;
  if (outcome.code === 0) return { content: shown, summary };
  return { content: `${shown}\n\nExit code ${outcome.code}`, isError: true, summary };
}

export const bashTool = defineTool<Input>({
  name: "bash",
  ruleName: "Bash",
  description: DESCRIPTION,
  input,
  readOnly: false,
  ruleSubject: (value) => value.command.trim(),
  async run(value, ctx) {
    const timeoutMs = value.timeout ?? DEFAULT_TIMEOUT_MS;
    return formatOutcome(await runCommand(value.command, timeoutMs, ctx), timeoutMs);
  },
});
