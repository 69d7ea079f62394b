/**
 * Every configured MCP server, connected in parallel, with their tools exposed to the agent as
 * `mcp__<server>__<tool>`. A server that fails is reported in status(), never fatal. Call close()
 * when done: stdio servers are child processes.
 */
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { Tool, ToolContext, ToolResult } from "../types.ts";
import type { McpServerConfig } from "./config.ts";
import { McpConnection, type McpServerState } from "./connection.ts";
import { hashedName, mcpToolName } from "./names.ts";

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Silent tools are given up on after this; tools that report progress get it again per report. */
export const DEFAULT_TOOL_TIMEOUT_MS = 10 * 60_000;
/** Some servers ship whole manuals as descriptions; Claude Code cuts them at the same length. */
const MAX_DESCRIPTION = 2048;

export interface McpManagerOptions {
  /** The effective `mcpServers` map (user config and project .mcp.json merged). */
  servers: Record<string, McpServerConfig>;
  /** A3S_HOME's logs directory: each stdio server's stderr goes to mcp-<server>.log there. */
  logsDir: string;
  /** The workspace: where stdio servers start unless their config says otherwise. */
  cwd: string;
  /** Merged under each stdio server's own env; process.env by default. */
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  toolTimeoutMs?: number;
}

export interface McpServerStatus {
  name: string;
  transport: "stdio" | "http";
  state: McpServerState;
  /** Why it failed, with the log file to read for stdio servers. */
  error?: string;
  tools: number;
  /** What the server says it is, from initialize. */
  server?: { name: string; version: string };
  /** The server's guidance for using its tools (worth adding to the system prompt). */
  instructions?: string;
  /** The stdio server's process (group) id while it runs. */
  pid?: number;
  logFile?: string;
}

export interface McpToolInfo {
  /** What the model calls. */
  name: string;
  server: string;
  /** The server's own name for it. */
  tool: string;
  title?: string;
  description: string;
  inputSchema: Record<string, unknown>;
  readOnly: boolean;
}

const AnyObject = z.record(z.string(), z.unknown());

export class McpManager {
  private readonly connections = new Map<string, McpConnection>();
  private readonly listeners = new Set<() => void>();
  private readonly killAll = () => {
    for (const connection of this.connections.values()) connection.kill();
  };

  constructor(private readonly options: McpManagerOptions) {
    for (const name of Object.keys(options.servers)) this.connections.set(name, this.connection(name));
  }

  /** Creates a manager and connects every server; resolves once each is connected or has failed. */
  static async start(options: McpManagerOptions): Promise<McpManager> {
    const manager = new McpManager(options);
    await manager.connect();
    return manager;
  }

  async connect(): Promise<void> {
    // If the process exits without close(), stdio servers must not outlive it.
    process.on("exit", this.killAll);
    await Promise.all([...this.connections.values()].map((connection) => connection.connect()));
    this.changed();
  }

  /** Drops one server's connection and connects again (after it crashed, or its config was fixed). */
  async reconnect(name: string): Promise<McpServerStatus> {
    const old = this.connections.get(name);
    if (old === undefined) throw new A3sError("not_found", `no MCP server named '${name}'`);
    await old.close();
    const fresh = this.connection(name);
    this.connections.set(name, fresh);
    await fresh.connect();
    this.changed();
    return this.statusOf(fresh);
  }

  status(): McpServerStatus[] {
    return [...this.connections.values()].map((connection) => this.statusOf(connection));
  }

  /** Every tool of every connected server, in config order then the server's order. */
  toolInfos(): McpToolInfo[] {
    const taken = new Set<string>();
    const infos: McpToolInfo[] = [];
    for (const connection of this.connections.values()) {
      if (connection.state !== "connected") continue;
      for (const tool of connection.tools) {
        let name = mcpToolName(connection.name, tool.name);
        if (taken.has(name)) name = hashedName(name, connection.name, tool.name);
        taken.add(name);
        const description = tool.description ?? tool.title ?? tool.annotations?.title ?? "";
        infos.push({
          name,
          server: connection.name,
          tool: tool.name,
          ...(tool.title === undefined ? {} : { title: tool.title }),
          description:
            description.length > MAX_DESCRIPTION
              ? `${description.slice(0, MAX_DESCRIPTION - 1)}…`
              : description,
          inputSchema: tool.inputSchema,
          readOnly: tool.annotations?.readOnlyHint === true,
        });
      }
    }
    return infos;
  }

  /** The tools as the agent uses them; ask again after onChange() fires (list_changed, a crash). */
  tools(): Tool[] {
    return this.toolInfos().map((info) => this.asTool(info));
  }

  /** Called whenever tools() or status() may have changed; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Shuts every server down (stdio: close stdin, then SIGTERM, then SIGKILL the process group). */
  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
    process.off("exit", this.killAll);
    this.listeners.clear();
  }

  private asTool(info: McpToolInfo): Tool {
    return {
      name: info.name,
      ruleName: info.name,
      description: info.description,
      input: AnyObject,
      inputSchema: info.inputSchema,
      readOnly: info.readOnly,
      ruleSubject: () => undefined,
      // Looked up at call time: the server may have been reconnected since this Tool was made.
      run: (input: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> => {
        const connection = this.connections.get(info.server);
        if (connection === undefined) {
          return Promise.resolve({ content: `MCP server '${info.server}' is gone`, isError: true });
        }
        return connection.call(info.tool, input, ctx.signal);
      },
    };
  }

  private connection(name: string): McpConnection {
    const { options } = this;
    const config = options.servers[name] as McpServerConfig;
    return new McpConnection({
      name,
      config,
      env: options.env ?? process.env,
      cwd: options.cwd,
      logsDir: options.logsDir,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      toolTimeoutMs: options.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS,
      onChange: () => this.changed(),
    });
  }

  private statusOf(connection: McpConnection): McpServerStatus {
    const { pid } = connection;
    return {
      name: connection.name,
      transport: connection.transportKind,
      state: connection.state,
      ...(connection.error === undefined ? {} : { error: connection.error }),
      tools: connection.tools.length,
      ...(connection.serverInfo === undefined ? {} : { server: connection.serverInfo }),
      ...(connection.instructions === undefined ? {} : { instructions: connection.instructions }),
      ...(pid === undefined || connection.state !== "connected" ? {} : { pid }),
      ...(connection.transportKind === "stdio" ? { logFile: connection.logFile } : {}),
    };
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
