/** One MCP server: connect with a deadline, list its tools (all pages), call them, shut it down. */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool as McpTool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import { VERSION } from "../../core/version.ts";
import type { ToolResult } from "../types.ts";
import { expandServerConfig, type McpServerConfig } from "./config.ts";
import { toToolResult } from "./content.ts";
import { sanitizeName } from "./names.ts";
import { StdioProcessTransport } from "./stdio.ts";

const log = logger("code.mcp");

/** How long close() waits for an HTTP server to acknowledge the end of its session. */
const SESSION_END_MS = 1000;

export type McpServerState = "connecting" | "connected" | "failed" | "closed";

export interface ConnectionOptions {
  name: string;
  config: McpServerConfig;
  /** Our environment; stdio servers get it merged with their configured env. */
  env: NodeJS.ProcessEnv;
  /** Where stdio servers without a `cwd` start, and what a relative `cwd` is resolved against. */
  cwd: string;
  logsDir: string;
  connectTimeoutMs: number;
  toolTimeoutMs: number;
  /** Called when the tool list or the state changes after connect(). */
  onChange: () => void;
}

export class McpConnection {
  state: McpServerState = "connecting";
  error: string | undefined;
  tools: McpTool[] = [];
  serverInfo: { name: string; version: string } | undefined;
  instructions: string | undefined;
  readonly logFile: string;

  private client: Client | undefined;
  private transport: StdioProcessTransport | StreamableHTTPClientTransport | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  constructor(private readonly options: ConnectionOptions) {
    this.logFile = join(options.logsDir, `mcp-${sanitizeName(options.name)}.log`);
  }

  get name(): string {
    return this.options.name;
  }

  get transportKind(): "stdio" | "http" {
    return "command" in this.options.config ? "stdio" : "http";
  }

  get pid(): number | undefined {
    return this.transport instanceof StdioProcessTransport ? this.transport.pid : undefined;
  }

  /** Never throws: a server that cannot be reached ends in state "failed" with the reason in `error`. */
  async connect(): Promise<void> {
    const { connectTimeoutMs } = this.options;
    const client = new Client({ name: "a3s", version: VERSION }, { capabilities: {} });
    let transport: StdioProcessTransport | StreamableHTTPClientTransport;
    try {
      transport = this.createTransport();
    } catch (error) {
      this.fail(describe(error));
      return;
    }
    this.client = client;
    this.transport = transport;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      void this.refresh();
    });
    client.onclose = () => this.lost();
    const deadline = AbortSignal.timeout(connectTimeoutMs);
    try {
      await client.connect(transport, { timeout: connectTimeoutMs, signal: deadline });
      const info = client.getServerVersion();
      if (info) this.serverInfo = { name: info.name, version: info.version };
      this.instructions = client.getInstructions();
      // A server of only prompts or resources has no tools/list to call.
      const hasTools = client.getServerCapabilities()?.tools !== undefined;
      this.tools = hasTools ? await this.listTools({ timeout: connectTimeoutMs, signal: deadline }) : [];
      if (this.state === "closed") return;
      this.state = "connected";
      log.info(`connected to ${this.name}`, { tools: this.tools.length });
    } catch (error) {
      if (this.state === "closed") return;
      const reason =
        deadline.aborted || isTimeout(error)
          ? `timed out after ${seconds(connectTimeoutMs)}`
          : describe(error);
      await this.shutdown(false);
      this.fail(reason);
    }
  }

  async call(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolResult> {
    const client = this.client;
    if (this.state !== "connected" || client === undefined) {
      const why = this.error ? `: ${this.error}` : "";
      return {
        content: `MCP server '${this.name}' is not connected${why}`,
        isError: true,
        summary: "not connected",
      };
    }
    const { toolTimeoutMs } = this.options;
    try {
      const result = await client.callTool({ name: tool, arguments: args }, undefined, {
        signal,
        timeout: toolTimeoutMs,
        // Long tools that report progress keep running; silent ones hit the timeout.
        resetTimeoutOnProgress: true,
        onprogress: () => {},
      });
      return toToolResult(result as CallToolResult);
    } catch (error) {
      if (signal.aborted)
        throw new A3sError("interrupted", `${tool} on MCP server '${this.name}' was interrupted`);
      const message = isTimeout(error) ? `timed out after ${seconds(toolTimeoutMs)}` : describe(error);
      return { content: `MCP server '${this.name}': ${message}`, isError: true, summary: message };
    }
  }

  async close(): Promise<void> {
    this.state = "closed";
    await this.shutdown(true);
  }

  /** Synchronous last resort at process exit. */
  kill(): void {
    if (this.transport instanceof StdioProcessTransport) this.transport.kill();
  }

  /** Re-reads the tool list; notifications arriving meanwhile cause one more pass, not a pile-up. */
  private refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          this.tools = await this.listTools({ timeout: this.options.connectTimeoutMs });
          this.options.onChange();
        } catch (error) {
          log.warn(`cannot refresh the tools of ${this.name}`, { error: describe(error) });
        }
      } while (this.refreshAgain && this.state === "connected");
      this.refreshing = undefined;
    })();
    return this.refreshing;
  }

  private async listTools(options: { timeout: number; signal?: AbortSignal }): Promise<McpTool[]> {
    const client = this.client;
    if (client === undefined) return [];
    const tools: McpTool[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, options);
      tools.push(...page.tools);
      cursor = page.nextCursor;
      // A server that hands back a cursor it already gave would otherwise loop forever.
      if (cursor !== undefined && seen.has(cursor)) break;
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor !== undefined);
    return tools;
  }

  private createTransport(): StdioProcessTransport | StreamableHTTPClientTransport {
    const { env, cwd } = this.options;
    const config = expandServerConfig(this.options.config, env);
    if ("command" in config) {
      return new StdioProcessTransport({
        command: config.command,
        args: config.args,
        env: { ...env, ...config.env },
        cwd: config.cwd === undefined ? cwd : resolve(cwd, config.cwd),
        logFile: this.logFile,
      });
    }
    if (!URL.canParse(config.url)) throw new A3sError("usage", `invalid URL '${config.url}'`);
    return new StreamableHTTPClientTransport(new URL(config.url), {
      requestInit: { headers: config.headers },
    });
  }

  /** The connection dropped after it was up (the process died, the HTTP session ended). */
  private lost(): void {
    if (this.state !== "connected") return;
    this.fail("disconnected");
    this.options.onChange();
  }

  private fail(reason: string): void {
    this.state = "failed";
    this.tools = [];
    const exit = this.transport instanceof StdioProcessTransport ? this.transport.exitReason : undefined;
    const detail = exit && !reason.includes(exit) ? `${reason} (${exit})` : reason;
    this.error = existsSync(this.logFile) ? `${detail}; see ${this.logFile}` : detail;
    log.warn(`MCP server ${this.name} failed`, { error: this.error });
  }

  /** `politely`: give stdio servers time to exit on EOF and end HTTP sessions with a DELETE. */
  private async shutdown(politely: boolean): Promise<void> {
    const { client, transport } = this;
    this.client = undefined;
    if (transport instanceof StdioProcessTransport && !politely) await transport.terminate();
    if (transport instanceof StreamableHTTPClientTransport && politely && transport.sessionId !== undefined) {
      // A server that stopped answering must not hold up our exit.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SESSION_END_MS);
      });
      await Promise.race([transport.terminateSession().catch(() => {}), deadline]);
      clearTimeout(timer);
    }
    if (client) {
      client.onclose = undefined;
      await client.close().catch(() => {});
    }
    // Client.close() closes the transport too, but not when connect() failed before attaching it.
    await (transport as Transport | undefined)?.close().catch(() => {});
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof McpError && error.code === ErrorCode.RequestTimeout;
}

function describe(error: unknown): string {
  if (error instanceof StreamableHTTPError) {
    const detail = error.message.replace(/^Streamable HTTP error: (Error POSTing to endpoint: )?/, "");
    // OAuth login flows are not supported; a token in a header is the way in.
    if (error.code === 401)
      return `the server requires authentication (HTTP 401): ${detail}; configure a token header`;
    return error.code === undefined ? detail : `HTTP ${error.code}: ${detail}`;
  }
  if (error instanceof McpError) return error.message.replace(/^MCP error -?\d+: /, "");
  if (error instanceof Error) return error.message;
  return String(error);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
