/** Slash commands: one table drives dispatch, /help and the completion hint. */
import type { CodeSession } from "../../src/code/types.ts";
import { formatTokens, formatUsd } from "./format.ts";
import { describeKey, KEYBINDINGS } from "./keybindings.ts";
import type { UIActions, UIState } from "./store.tsx";

export interface SlashContext {
  args: string;
  session: CodeSession;
  state: UIState;
  actions: UIActions;
}

export interface SlashCommand {
  name: string;
  aliases?: string[];
  args?: string;
  description: string;
  /** Commands that start work on the session wait until the running turn ends. */
  idleOnly?: boolean;
  run(context: SlashContext): void;
}

const KEY_HELP: [string, keyof typeof KEYBINDINGS][] = [
  ["submit", "input.submit"],
  ["newline (also \\ then Enter)", "input.newline"],
  ["interrupt the agent", "app.interrupt"],
  ["clear input / quit (twice)", "app.quit"],
  ["quit on an empty line", "app.eof"],
  ["cycle permission mode", "app.cycleMode"],
  ["history (on the first/last line)", "input.up"],
  ["complete a command", "input.complete"],
];

function helpText(): string {
  const commands = SLASH_COMMANDS.map((command) => {
    const usage = `/${command.name}${command.args ? ` ${command.args}` : ""}`;
    return `  ${usage.padEnd(18)} ${command.description}`;
  });
  const keys = KEY_HELP.map(
    ([label, command]) => `  ${KEYBINDINGS[command].map(describeKey).join(", ").padEnd(28)} ${label}`,
  );
  return ["Commands", ...commands, "", "Keys", ...keys, "  Ctrl-A/E/K/U/W               line editing"].join(
    "\n",
  );
}

function listModels({ session, state, actions }: SlashContext): void {
  const models = session.listModels();
  if (models.length === 0) {
    actions.notice("info", `Model: ${state.model} (no other models configured)`);
    return;
  }
  actions.openPicker({
    title: "Select a model",
    options: models,
    initial: Math.max(0, models.indexOf(state.model)),
    onPick: (model) => {
      actions.setModel(model);
      actions.notice("info", `Model set to ${model}`);
    },
  });
}

export const SLASH_COMMANDS: SlashCommand[] = [
  {
    name: "help",
    description: "Show commands and keys",
    run: ({ actions }) => actions.notice("info", helpText()),
  },
  {
    name: "model",
    args: "[name]",
    description: "Pick the model, or set it by name",
    run(context) {
      if (context.args === "") return listModels(context);
      context.actions.setModel(context.args);
      context.actions.notice("info", `Model set to ${context.args}`);
    },
  },
  {
    name: "compact",
    description: "Summarise the conversation to free context",
    idleOnly: true,
    run: ({ actions }) => actions.compact(),
  },
  {
    name: "clear",
    description: "Start a new conversation (this one stays saved)",
    idleOnly: true,
    run: ({ actions }) => actions.clear(),
  },
  {
    name: "sessions",
    description: "List saved sessions",
    run({ session, actions }) {
      const sessions = session.listSessions();
      if (sessions.length === 0) return actions.notice("info", "No saved sessions");
      const lines = sessions.map(
        (s) =>
          `  ${s.id}  ${s.updatedAt.slice(0, 16).replace("T", " ")}  ${String(s.messages).padStart(4)} msgs  ${formatUsd(s.costUsd).padStart(7)}  ${s.title}`,
      );
      actions.notice("info", ["Sessions", ...lines].join("\n"));
    },
  },
  {
    name: "permissions",
    description: "Show the permission mode and rules",
    run({ session, actions }) {
      const rules = session.permissions();
      const section = (title: string, list: string[]) =>
        list.length === 0 ? [`${title}: none`] : [`${title}:`, ...list.map((rule) => `  ${rule}`)];
      actions.notice(
        "info",
        [
          `Mode: ${rules.mode}`,
          ...section("Allow", rules.allow),
          ...section("Deny", rules.deny),
          ...section("Ask", rules.ask),
        ].join("\n"),
      );
    },
  },
  {
    name: "cost",
    description: "Show tokens and cost so far",
    run({ state, actions }) {
      const t = state.total;
      const cache =
        (t.cacheReadTokens ?? 0) + (t.cacheWriteTokens ?? 0) > 0
          ? ` · cache read ${formatTokens(t.cacheReadTokens ?? 0)}, write ${formatTokens(t.cacheWriteTokens ?? 0)}`
          : "";
      actions.notice(
        "info",
        `Total cost: ${formatUsd(t.costUsd)} · input ${formatTokens(t.inputTokens)} · output ${formatTokens(t.outputTokens)}${cache}`,
      );
    },
  },
  { name: "exit", aliases: ["quit"], description: "Quit", run: ({ actions }) => actions.exit(0) },
];

export function findCommand(name: string): SlashCommand | undefined {
  return SLASH_COMMANDS.find((command) => command.name === name || command.aliases?.includes(name));
}

/** Commands whose name starts with what follows the slash (none once arguments are typed). */
export function suggestions(input: string): SlashCommand[] {
  if (!input.startsWith("/") || /\s/.test(input)) return [];
  const typed = input.slice(1);
  return SLASH_COMMANDS.filter(
    (command) => command.name.startsWith(typed) || command.aliases?.some((alias) => alias.startsWith(typed)),
  );
}

/** Runs a "/command args" line; returns false when it is not a slash command at all. */
export function runSlash(line: string, context: Omit<SlashContext, "args">): boolean {
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(line.trim());
  // "/usr/lib is missing" is a prompt about a path, not a command.
  if (!match || match[1]!.includes("/")) return false;
  const command = findCommand(match[1]!);
  if (!command) {
    context.actions.notice("warning", `Unknown command /${match[1]} · /help lists the commands`);
    return true;
  }
  if (command.idleOnly && context.state.busy) {
    context.actions.notice("warning", `/${command.name} waits for the running turn · Esc interrupts it`);
    return true;
  }
  command.run({ ...context, args: match[2]!.trim() });
  return true;
}
