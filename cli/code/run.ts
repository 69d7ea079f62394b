/**
 * `a3s code run "<task>"`: the agent without a terminal UI. It prints the final answer on stdout
 * (tool activity on stderr when that is a terminal), or with --json one event per line — the same
 * events the TUI renders. "Ask" permissions are denials here unless --allow grants them.
 */
import { Command } from "commander";
import type { AgentEvent } from "../../src/code/types.ts";
import { A3sError, type ErrorCode, EXIT_CODES } from "../../src/core/errors.ts";
import { createContext } from "../context.ts";
import type { Output } from "../output.ts";
import { type AgentFlags, addAgentOptions } from "./options.ts";

export function runCommand(): Command {
  return addAgentOptions(
    new Command("run")
      .description("Run a task headless: print the answer, or JSON events with --json")
      .argument("[task...]", "what to do; read from stdin when absent or '-'"),
  ).action(async (words: string[], flags: AgentFlags, command: Command) => {
    const ctx = createContext(command);
    const task = await taskText(words);
    const { openAgent } = await import("./open.ts");
    const { session, close } = await openAgent(ctx, flags, { interactive: false });
    let failure: { code: string; message: string } | undefined;
    let final: Extract<AgentEvent, { type: "final" }> | undefined;
    session.subscribe((event) => {
      if (ctx.out.json) ctx.out.jsonLine(event);
      else narrate(ctx.out, event);
      if (event.type === "error") failure = event;
      if (event.type === "final") final = event;
    });
    const onSigint = () => session.interrupt();
    process.on("SIGINT", onSigint);
    try {
      await session.submit(task);
    } finally {
      process.off("SIGINT", onSigint);
      await close();
    }
    if (!ctx.out.json && final?.text) ctx.out.line(final.text.trimEnd());
    process.exitCode = exitCodeOf(final, failure);
  });
}

async function taskText(words: string[]): Promise<string> {
  const given = words.join(" ").trim();
  if (given !== "" && given !== "-") return given;
  if (process.stdin.isTTY)
    throw new A3sError("usage", "no task given", { hint: 'a3s code run "fix the failing test"' });
  const piped = (await new Response(Bun.stdin.stream()).text()).trim();
  if (piped === "") throw new A3sError("usage", "the task read from stdin is empty");
  return piped;
}

/** Tool activity for a person watching stderr; silent when stderr is not a terminal or -q. */
function narrate(out: Output, event: AgentEvent): void {
  if (event.type === "error") {
    out.stderr.write(`${out.style("red", "error:")} ${event.message}\n`);
    return;
  }
  if (!out.interactive) return;
  if (event.type === "tool_call")
    out.stderr.write(out.style("dim", `● ${event.name} ${briefInput(event.input)}\n`));
  else if (event.type === "subagent_step")
    out.stderr.write(out.style("dim", `  ⎿ ${event.name} ${briefInput(event.input)}\n`));
  else if (event.type === "tool_result" && event.isError) {
    out.stderr.write(out.style("yellow", `  ⎿ ${event.summary ?? firstLine(event.content)}\n`));
  } else if (event.type === "retry") {
    out.stderr.write(
      out.style("dim", `  retrying in ${(event.delayMs / 1000).toFixed(1)} s (${event.reason})\n`),
    );
  }
}

function briefInput(input: Record<string, unknown>): string {
  const first = Object.values(input).find((value) => typeof value === "string") as string | undefined;
  return first === undefined ? "" : firstLine(first).slice(0, 80);
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}

function exitCodeOf(
  final: Extract<AgentEvent, { type: "final" }> | undefined,
  failure: { code: string } | undefined,
): number {
  switch (final?.stopReason) {
    case "end_turn":
    case "stop_sequence":
    case "tool_use":
      return 0;
    case "interrupted":
      return EXIT_CODES.interrupted;
    case "blocked":
      return EXIT_CODES.permission;
    case "max_rounds":
    case "max_tokens":
    case "refusal":
      return EXIT_CODES.runtime;
    default:
      return failure && failure.code in EXIT_CODES
        ? EXIT_CODES[failure.code as ErrorCode]
        : EXIT_CODES.internal;
  }
}
