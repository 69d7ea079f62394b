/** `a3s code sessions ls | show | rm | export`: the saved conversations. */
import { writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { SessionRecord, SessionStore } from "../../src/code/sessions.ts";
import { A3sError, fromSystemError } from "../../src/core/errors.ts";
import { type CliContext, createContext } from "../context.ts";
import { timeAgo } from "../format.ts";
import type { Column } from "../output.ts";

async function openSessions(command: Command): Promise<CliContext & { sessions: SessionStore }> {
  const [{ SessionStore }, { openCoreContext }] = await Promise.all([
    import("../../src/code/sessions.ts"),
    import("../../src/core/context.ts"),
  ]);
  const ctx = createContext(command);
  return { ...ctx, sessions: new SessionStore(openCoreContext(ctx.paths, ctx.env).db) };
}

const truncate = (text: string, width: number) =>
  text.length <= width ? text : `${text.slice(0, width - 1)}…`;

function sessionColumns(): Array<Column<SessionRecord>> {
  return [
    { header: "ID", value: (s) => s.id.slice(0, 8) },
    { header: "TITLE", value: (s) => truncate(s.title || "-", 48) },
    { header: "MODEL", value: (s) => s.model },
    { header: "MESSAGES", value: (s) => String(s.messages) },
    { header: "COST", value: (s) => `$${s.costUsd.toFixed(4)}` },
    { header: "UPDATED", value: (s) => timeAgo(s.updatedAt) },
    { header: "DIRECTORY", value: (s) => s.cwd },
  ];
}

export function sessionsCommand(): Command {
  return new Command("sessions")
    .description("List, show, export or delete saved sessions")
    .addCommand(
      new Command("ls")
        .description("List sessions, most recent first")
        .option("-a, --all", "sessions of every directory, not only this one")
        .option("-n, --limit <n>", "show at most n sessions", "50")
        .option("-q, --quiet", "only ids")
        .option("--format <format>", "'table', 'json' or a Go template such as '{{.id}} {{.title}}'")
        .action(
          async (flags: { all?: boolean; limit: string; quiet?: boolean; format?: string }, cmd: Command) => {
            const { out, sessions } = await openSessions(cmd);
            const limit = Number(flags.limit);
            if (!Number.isInteger(limit) || limit < 1)
              throw new A3sError("usage", `invalid --limit '${flags.limit}'`);
            const rows = sessions.list({ ...(flags.all ? {} : { cwd: process.cwd() }), limit });
            if (flags.quiet) for (const row of rows) out.line(row.id);
            else out.list(rows, sessionColumns(), flags.format);
          },
        ),
    )
    .addCommand(
      new Command("show")
        .description("Print a session as Markdown (or JSON with --json)")
        .argument("<session>", "session id or unique prefix")
        .action(async (ref: string, _flags: unknown, cmd: Command) => {
          const { out, sessions } = await openSessions(cmd);
          const session = sessions.get(ref);
          const entries = sessions.entries(session.id);
          const { sessionMarkdown } = await import("../../src/code/export.ts");
          if (out.json) out.printJson({ session, entries });
          else out.stdout.write(sessionMarkdown({ session, entries }));
        }),
    )
    .addCommand(
      new Command("export")
        .description("Write a session to a file or stdout as Markdown or JSON")
        .argument("<session>", "session id or unique prefix")
        .addOption(
          new Option("--format <format>", "markdown or json")
            .choices(["markdown", "json"])
            .default("markdown"),
        )
        .option("-o, --output <file>", "write here instead of stdout")
        .action(
          async (ref: string, flags: { format: "markdown" | "json"; output?: string }, cmd: Command) => {
            const { out, sessions } = await openSessions(cmd);
            const session = sessions.get(ref);
            const data = { session, entries: sessions.entries(session.id) };
            const { sessionMarkdown } = await import("../../src/code/export.ts");
            const text =
              flags.format === "json" ? `${JSON.stringify(data, null, 2)}\n` : sessionMarkdown(data);
            if (flags.output === undefined) {
              out.stdout.write(text);
              return;
            }
            try {
              writeFileSync(flags.output, text);
            } catch (err) {
              throw fromSystemError(err, `cannot write ${flags.output}`);
            }
            if (out.json) out.printJson({ id: session.id, path: flags.output, format: flags.format });
            else out.info(`exported ${session.id.slice(0, 8)} to ${flags.output}`);
          },
        ),
    )
    .addCommand(
      new Command("rm")
        .description("Delete sessions")
        .argument("<sessions...>", "session ids or unique prefixes")
        .action(async (refs: string[], _flags: unknown, cmd: Command) => {
          const { out, sessions } = await openSessions(cmd);
          const removed = refs.map((ref) => sessions.remove(ref).id);
          if (out.json) out.printJson({ removed });
          else for (const id of removed) out.line(id);
        }),
    );
}
