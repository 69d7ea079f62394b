/**
 * `a3s code [prompt]` / `a3s code chat`: the terminal UI. Ink and React are imported only here,
 * when a chat actually starts, so every other command stays fast.
 */
import { join } from "node:path";
import { Command } from "commander";
import { A3sError } from "../../src/core/errors.ts";
import { createContext } from "../context.ts";
import { type AgentFlags, addAgentOptions } from "./options.ts";

export function chatCommand(): Command {
  return addAgentOptions(
    new Command("chat")
      .description("Open the interactive terminal UI (the default)")
      .argument("[prompt...]", "a first prompt to send"),
  ).action(async (words: string[], flags: AgentFlags, command: Command) => {
    const ctx = createContext(command);
    if (ctx.out.json) {
      throw new A3sError("usage", "the chat is interactive and prints no JSON", {
        hint: 'a3s code run --json "<task>" prints the agent\'s events as JSON Lines',
      });
    }
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw new A3sError("usage", "the chat needs a terminal", {
        hint: "use 'a3s code run \"<task>\"' in scripts (add --json for events)",
      });
    }
    const { ensureTrusted } = await import("./trust.ts");
    await ensureTrusted(ctx, process.cwd());
    // Keys typed while the agent opens must arrive as key presses: in the terminal's cooked mode
    // they would be echoed over the UI and Enter would reach the prompt as a newline, not a submit.
    process.stdin.setRawMode(true);
    const { openAgent } = await import("./open.ts");
    const { session, close } = await openAgent(ctx, flags, { interactive: true }).catch((error: unknown) => {
      process.stdin.setRawMode(false);
      throw error;
    });
    try {
      const { runCodeTui } = await importTui();
      (await import("../../src/core/jit.ts")).settleForLongRun();
      const prompt = words.join(" ").trim();
      process.exitCode = await runCodeTui(session, {
        historyFile: join(ctx.paths.home, "code-history.jsonl"),
        ...(prompt ? { initialPrompt: prompt } : {}),
      });
    } finally {
      await close();
    }
  });
}

/**
 * Ink draws only the last frame when it believes it runs in CI (is-in-ci reads CI and
 * CONTINUOUS_INTEGRATION once, when Ink loads). Both ends are terminals here, so those
 * variables are hidden while it loads; tools the agent runs still see them.
 */
async function importTui(): Promise<typeof import("../tui/code-app.tsx")> {
  const ciVariables = Object.entries(process.env).filter(
    ([name]) => name === "CI" || name === "CONTINUOUS_INTEGRATION",
  );
  for (const [name] of ciVariables) delete process.env[name];
  try {
    return await import("../tui/code-app.tsx");
  } finally {
    for (const [name, value] of ciVariables) process.env[name] = value;
  }
}
