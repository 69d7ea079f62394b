/**
 * The server and what talks to it: `serve`, `ps` and `stop` (clients of a running server, as
 * Ollama's are), and `usage` (read from the database the server records into).
 */
import { Command } from "commander";
import { A3sError } from "../../src/core/errors.ts";
import { clientUrl, parseHostPort } from "../../src/power/server/address.ts";
import { timeAgo } from "../format.ts";
import { formatColumns } from "./columns.ts";
import { openPower } from "./open.ts";
import { humanBytes } from "./render-progress.ts";

export function serveCommand(): Command {
  return new Command("serve")
    .description("Serve the Ollama- and OpenAI-compatible HTTP APIs (default 127.0.0.1:11434)")
    .option("--host <host>", "address to listen on (power.host, OLLAMA_HOST)")
    .option("-p, --port <port>", "port to listen on", (value) => Number.parseInt(value, 10))
    .action(async (options: { host?: string; port?: number }, command: Command) => {
      const { out, power } = await openPower(command);
      const address = parseHostPort(options.host ?? power.config.power.host);
      if (options.port !== undefined) {
        if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
          throw new A3sError("usage", "--port must be a number from 0 to 65535");
        }
        address.port = options.port;
      }
      const { startPowerServer } = await import("../../src/power/server/server.ts");
      let server: ReturnType<typeof startPowerServer>;
      try {
        server = startPowerServer(power, address);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") {
          throw new A3sError("conflict", `${address.hostname}:${address.port} is already in use`, {
            hint: "another server (a3s or ollama) is listening there; pick one with --port",
          });
        }
        throw err;
      }
      (await import("../../src/core/jit.ts")).settleForLongRun();
      if (out.json) out.jsonLine({ status: "listening", url: server.url });
      else out.stderr.write(`Listening on ${server.url.replace(/^http:\/\//, "")} (a3s power, Ollama API)\n`);
      await new Promise<void>((resolve) => {
        const shutdown = () => resolve();
        process.once("SIGINT", shutdown);
        process.once("SIGTERM", shutdown);
      });
      await server.stop();
    });
}

/** Calls a running server; a refused connection says how to start one. */
async function callServer(url: string, path: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(`${url}${path}`, init);
  } catch (err) {
    throw new A3sError("network", `could not connect to a running a3s power server at ${url}`, {
      hint: "start one with 'a3s power serve'",
      cause: err,
    });
  }
}

async function failure(response: Response): Promise<A3sError> {
  const text = await response.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    // not JSON: the body is the message
  }
  const code = response.status === 404 ? "not_found" : response.status === 400 ? "usage" : "runtime";
  return new A3sError(code, message || `server answered ${response.status}`);
}

export function serverUrl(hostSetting: string): string {
  return clientUrl(parseHostPort(hostSetting));
}

interface PsModel {
  name: string;
  digest: string;
  size: number;
  size_vram: number;
  context_length: number;
  expires_at: string;
}

export function psCommand(): Command {
  return new Command("ps")
    .description("List models loaded by the running server")
    .action(async (_options, command: Command) => {
      const { out, power } = await openPower(command);
      const response = await callServer(serverUrl(power.config.power.host), "/api/ps");
      if (!response.ok) throw await failure(response);
      const body = (await response.json()) as { models: PsModel[] };
      if (out.json) {
        out.printJson(body);
        return;
      }
      const rows = body.models.map((m) => [
        m.name,
        m.digest.slice(0, 12),
        humanBytes(m.size),
        m.size_vram > 0 ? "100% GPU" : "100% CPU",
        String(m.context_length),
        untilText(m.expires_at),
      ]);
      out.stdout.write(formatColumns([["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"], ...rows]));
    });
}

function untilText(expiresAt: string): string {
  const at = new Date(expiresAt).getTime();
  if (at - Date.now() > 100 * 365 * 86_400_000) return "Forever";
  if (at <= Date.now()) return "Stopping...";
  const seconds = Math.round((at - Date.now()) / 1000);
  if (seconds < 60) return `${seconds} seconds from now`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} minute${minutes === 1 ? "" : "s"} from now` : timeAgo(expiresAt);
}

export function stopCommand(): Command {
  return new Command("stop")
    .description("Unload a model from the running server")
    .argument("<model>", "model name")
    .action(async (model: string, _options, command: Command) => {
      const { out, power } = await openPower(command);
      const url = serverUrl(power.config.power.host);
      const loaded = await callServer(url, "/api/ps");
      if (!loaded.ok) throw await failure(loaded);
      const response = await callServer(url, "/api/generate", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, keep_alive: 0 }),
      });
      if (!response.ok) throw await failure(response);
      if (out.json) out.printJson({ model, status: "unloaded" });
    });
}

export function usageCommand(): Command {
  return new Command("usage")
    .description("Show tokens and requests served per model (with costs from power.prices)")
    .option("--since <when>", "only since a date (2026-11-01) or a duration back (24h, 7d)")
    .action(async (options: { since?: string }, command: Command) => {
      const { out, power } = await openPower(command);
      const { parseSince, summarizeUsage } = await import("../../src/power/usage.ts");
      const since = options.since === undefined ? undefined : parseSince(options.since);
      if (options.since !== undefined && !since) {
        throw new A3sError(
          "usage",
          `--since: '${options.since}' is neither a date nor a duration like 24h or 7d`,
        );
      }
      const summary = summarizeUsage(power.db, since, power.config.power.prices);
      if (out.json) {
        out.printJson(summary);
        return;
      }
      const cost = (value: number | null) => (value === null ? "-" : value.toFixed(4));
      const rows = summary.models.map((m) => [
        m.model,
        String(m.requests),
        String(m.prompt_tokens),
        String(m.completion_tokens),
        `${(m.total_duration / 1e9).toFixed(1)}s`,
        cost(m.cost),
      ]);
      const t = summary.totals;
      out.stdout.write(
        formatColumns([
          ["MODEL", "REQUESTS", "PROMPT TOKENS", "COMPLETION TOKENS", "TIME", "COST"],
          ...rows,
          [
            "TOTAL",
            String(t.requests),
            String(t.prompt_tokens),
            String(t.completion_tokens),
            `${(t.total_duration / 1e9).toFixed(1)}s`,
            cost(t.cost),
          ],
        ]),
      );
    });
}
