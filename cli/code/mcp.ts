/** `a3s code mcp`: list, inspect, add and remove MCP servers (user config and the project's .mcp.json). */
import { Command, Option } from "commander";
import type {
  ConfiguredMcpServer,
  McpScope,
  McpServerConfig,
  McpServerEntry,
  WritableMcpScope,
} from "../../src/code/mcp/config.ts";
import type { McpServerStatus, McpToolInfo } from "../../src/code/mcp/manager.ts";
import { A3sError } from "../../src/core/errors.ts";
import { type CliContext, createContext } from "../context.ts";
import { shellQuote } from "../cron/options.ts";
import { collect } from "../options.ts";

export function mcpCommand(): Command {
  return new Command("mcp")
    .description(
      "Manage MCP servers (config.json's code.mcpServers, the project's .mcp.json and .a3s/settings*.json)",
    )
    .addCommand(lsCommand())
    .addCommand(getCommand())
    .addCommand(addCommand())
    .addCommand(rmCommand());
}

const timeoutOption = () =>
  new Option("--timeout <seconds>", "how long each server may take to connect").default("10");

function lsCommand(): Command {
  return new Command("ls")
    .alias("list")
    .description("List configured servers, connecting to each to show its status and tools")
    .addOption(timeoutOption())
    .action(async (flags: { timeout: string }, cmd: Command) => {
      const ctx = createContext(cmd);
      const servers = await configured(ctx);
      const { statuses } = await check(ctx, servers, flags.timeout);
      const rows = servers.map((server) => row(server, statuses.get(server.name)));
      if (ctx.out.json) {
        ctx.out.printJson(rows);
        return;
      }
      if (rows.length === 0) {
        ctx.out.info("no MCP servers configured; add one with 'a3s code mcp add <name> <command or URL>'");
        return;
      }
      ctx.out.table(rows, [
        { header: "NAME", value: (r) => r.name },
        { header: "SCOPE", value: (r) => r.scope },
        { header: "TRANSPORT", value: (r) => r.transport },
        { header: "STATUS", value: (r) => ctx.out.style(r.state === "connected" ? "green" : "red", r.state) },
        { header: "TOOLS", value: (r) => (r.state === "connected" ? String(r.tools) : "-") },
        { header: "COMMAND/URL", value: (r) => r.target },
      ]);
      for (const r of rows) if (r.error !== undefined) ctx.out.warn(`${r.name}: ${r.error}`);
    });
}

function getCommand(): Command {
  return new Command("get")
    .description("Show a server's configuration and its tools")
    .argument("<name>", "server name")
    .addOption(timeoutOption())
    .action(async (name: string, flags: { timeout: string }, cmd: Command) => {
      const ctx = createContext(cmd);
      const server = (await configured(ctx)).find((s) => s.name === name);
      if (server === undefined) {
        throw new A3sError("not_found", `no MCP server named '${name}'`, { hint: "see 'a3s code mcp ls'" });
      }
      const { statuses, tools } = await check(ctx, [server], flags.timeout);
      const status = statuses.get(name);
      const shown = row(server, status);
      if (ctx.out.json) {
        ctx.out.printJson({ ...shown, config: server.config ?? null, tools });
        return;
      }
      const pairs: Array<[string, string]> = [
        ["name", shown.name],
        ["scope", `${shown.scope} (${server.file})`],
        ["transport", shown.transport],
        [server.config && "url" in server.config ? "url" : "command", shown.target],
      ];
      if (server.config && "command" in server.config) {
        if (server.config.cwd !== undefined) pairs.push(["cwd", server.config.cwd]);
        for (const [key, value] of Object.entries(server.config.env)) pairs.push(["env", `${key}=${value}`]);
      }
      if (server.config && "url" in server.config) {
        for (const [key, value] of Object.entries(server.config.headers))
          pairs.push(["header", `${key}: ${value}`]);
      }
      pairs.push(["status", shown.error === undefined ? shown.state : `${shown.state}: ${shown.error}`]);
      if (shown.server !== undefined) pairs.push(["server", `${shown.server.name} ${shown.server.version}`]);
      if (status?.logFile !== undefined) pairs.push(["log", status.logFile]);
      const width = Math.max(...pairs.map(([key]) => key.length)) + 1;
      for (const [key, value] of pairs) ctx.out.line(`${`${key}:`.padEnd(width)} ${value}`);
      if (tools.length === 0) return;
      ctx.out.line();
      ctx.out.table(tools, [
        { header: "TOOL", value: (t) => t.name },
        { header: "READ-ONLY", value: (t) => (t.readOnly ? "yes" : "no") },
        { header: "DESCRIPTION", value: (t) => firstLine(t.description) },
      ]);
    });
}

interface AddFlags {
  transport?: string;
  scope: string;
  env: string[];
  header: string[];
}

function addCommand(): Command {
  return new Command("add")
    .description("Add a server: a command to run (stdio) or a URL (streamable HTTP)")
    .argument("<name>", "server name (letters, digits, - and _)")
    .argument("<commandOrUrl>", "the command that starts the server, or its URL")
    .argument("[args...]", "arguments of the command (put them after -- when they look like options)")
    .addOption(
      new Option(
        "-t, --transport <transport>",
        "stdio, or http for a URL (the default for http(s) URLs)",
      ).choices(["stdio", "http"]),
    )
    .addOption(
      new Option("-s, --scope <scope>", "where to save it").choices(["user", "project"]).default("user"),
    )
    .option("-e, --env <KEY=VALUE>", "environment variable of a stdio server (repeatable)", collect, [])
    .option("-H, --header <Name: value>", "request header of an HTTP server (repeatable)", collect, [])
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  a3s code mcp add files -- npx -y @modelcontextprotocol/server-filesystem ~/notes",
        "  a3s code mcp add github -s project -e GITHUB_TOKEN=ghp_xxx -- github-mcp-server stdio",
        '  a3s code mcp add docs https://mcp.example.com/mcp -H "Authorization: Bearer $TOKEN"',
      ].join("\n"),
    )
    .action(async (name: string, target: string, args: string[], flags: AddFlags, cmd: Command) => {
      const ctx = createContext(cmd);
      const { addMcpServer } = await import("../../src/code/mcp/config.ts");
      const scope = flags.scope as WritableMcpScope;
      const entry = serverEntry(target, args, flags);
      const file = addMcpServer(
        { scope, configPath: ctx.paths.config, projectRoot: await projectRoot() },
        name,
        entry,
      );
      if (ctx.out.json) ctx.out.printJson({ name, scope, file, config: entry });
      else ctx.out.info(`Added ${"url" in entry ? "HTTP" : "stdio"} MCP server ${name} to ${file}`);
    });
}

function rmCommand(): Command {
  return new Command("rm")
    .alias("remove")
    .description("Remove a server")
    .argument("<name>", "server name")
    .addOption(
      new Option("-s, --scope <scope>", "the scope to remove it from (needed when both have it)").choices([
        "user",
        "project",
      ]),
    )
    .action(async (name: string, flags: { scope?: string }, cmd: Command) => {
      const ctx = createContext(cmd);
      const { removeMcpServer } = await import("../../src/code/mcp/config.ts");
      const file = removeMcpServer(
        {
          ...(flags.scope === undefined ? {} : { scope: flags.scope as WritableMcpScope }),
          configPath: ctx.paths.config,
          projectRoot: await projectRoot(),
        },
        name,
      );
      if (ctx.out.json) ctx.out.printJson({ name, file });
      else ctx.out.info(`Removed MCP server ${name} from ${file}`);
    });
}

/** The add command's flags and words as a config entry; options of the other transport are errors. */
function serverEntry(target: string, args: readonly string[], flags: AddFlags): McpServerEntry {
  const transport = flags.transport ?? (/^https?:\/\//i.test(target) ? "http" : "stdio");
  if (transport === "http") {
    if (args.length > 0) throw new A3sError("usage", "an HTTP server takes a URL and no arguments");
    if (flags.env.length > 0)
      throw new A3sError("usage", "-e sets environment variables of stdio servers only");
    if (!URL.canParse(target)) throw new A3sError("usage", `invalid URL '${target}'`);
    const headers = parseHeaders(flags.header);
    return { type: "http", url: target, ...(Object.keys(headers).length > 0 ? { headers } : {}) };
  }
  if (flags.header.length > 0) throw new A3sError("usage", "-H sets headers of HTTP servers only");
  const env = parseEnvPairs(flags.env);
  return {
    command: target,
    ...(args.length > 0 ? { args: [...args] } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
  };
}

function parseEnvPairs(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const key = entry.slice(0, eq);
    if (eq === -1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new A3sError("usage", `invalid -e '${entry}'`, { hint: "write KEY=VALUE" });
    }
    env[key] = entry.slice(eq + 1);
  }
  return env;
}

function parseHeaders(entries: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(":");
    const name = entry.slice(0, colon).trim();
    if (colon === -1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new A3sError("usage", `invalid -H '${entry}'`, { hint: 'write "Name: value"' });
    }
    headers[name] = entry.slice(colon + 1).trim();
  }
  return headers;
}

/** The project a session started here would use: the git root above the current directory. */
async function projectRoot(): Promise<string> {
  const { findProjectRoot } = await import("../../src/code/workspace.ts");
  return findProjectRoot(process.cwd());
}

/** What a session started here would connect to. */
async function configured(ctx: CliContext): Promise<ConfiguredMcpServer[]> {
  const { configuredMcpServers } = await import("../../src/code/mcp/config.ts");
  const { loadConfig } = await import("../../src/core/config.ts");
  return configuredMcpServers({
    configPath: ctx.paths.config,
    userServers: loadConfig(ctx.paths.config, ctx.env).config.code.mcpServers,
    projectRoot: await projectRoot(),
  });
}

function timeoutMs(seconds: string): number {
  const value = Number(seconds);
  if (!Number.isFinite(value) || value <= 0) throw new A3sError("usage", `invalid --timeout '${seconds}'`);
  return value * 1000;
}

/** Connects to the valid servers in parallel, notes what they offer, and shuts them down again. */
async function check(
  ctx: CliContext,
  servers: readonly ConfiguredMcpServer[],
  timeout: string,
): Promise<{ statuses: Map<string, McpServerStatus>; tools: McpToolInfo[] }> {
  const ms = timeoutMs(timeout);
  const { serverMap } = await import("../../src/code/mcp/config.ts");
  const { McpManager } = await import("../../src/code/mcp/manager.ts");
  const manager = await McpManager.start({
    servers: serverMap(servers),
    logsDir: ctx.paths.logs,
    cwd: process.cwd(),
    env: ctx.env,
    connectTimeoutMs: ms,
  });
  try {
    return { statuses: new Map(manager.status().map((s) => [s.name, s])), tools: manager.toolInfos() };
  } finally {
    await manager.close();
  }
}

interface Row {
  name: string;
  scope: McpScope;
  transport: "stdio" | "http";
  target: string;
  state: string;
  tools: number;
  error?: string;
  server?: { name: string; version: string };
}

function row(server: ConfiguredMcpServer, status: McpServerStatus | undefined): Row {
  const config = server.config;
  const error = server.error ?? status?.error;
  return {
    name: server.name,
    scope: server.scope,
    transport: config && "url" in config ? "http" : "stdio",
    target: config ? target(config) : "-",
    state: status?.state ?? "failed",
    tools: status?.tools ?? 0,
    ...(error === undefined ? {} : { error }),
    ...(status?.server === undefined ? {} : { server: status.server }),
  };
}

function target(config: McpServerConfig): string {
  return "url" in config ? config.url : [config.command, ...config.args].map(shellQuote).join(" ");
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}
