/**
 * `a3s power serve`: one Bun HTTP server with Ollama's routes, OpenAI's under /v1 and Prometheus
 * metrics, over one engine. Each generation is counted (metrics) and recorded (power_usage).
 */
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import { VERSION } from "../../core/version.ts";
import type { PowerContext } from "../context.ts";
import { type Completion, PowerEngine } from "../engine/engine.ts";
import { displayName, parseModelName } from "../name.ts";
import { recordUsage } from "../usage.ts";
import { json, statusOf } from "./http.ts";
import { PowerMetrics } from "./metrics.ts";
import { OLLAMA_API_VERSION, ollamaRoutes } from "./ollama.ts";
import { openaiRoutes } from "./openai.ts";

const log = logger("power.serve");

export interface ServerContext {
  engine: PowerEngine;
  power: PowerContext;
  metrics: PowerMetrics;
  /** Runs a generation, recording its tokens, time to first token and usage row. */
  track(endpoint: string, model: string, run: () => Promise<Completion>): Promise<Completion>;
  trackEmbed<T extends { promptTokens: number }>(
    endpoint: string,
    model: string,
    run: () => Promise<T>,
  ): Promise<T>;
}

export interface ServeOptions {
  hostname: string;
  port: number;
}

export interface RunningServer {
  url: string;
  engine: PowerEngine;
  stop(): Promise<void>;
}

/** The engine as power.* configures it, reporting loads and unloads to the metrics. */
export function configuredEngine(power: PowerContext, metrics: PowerMetrics): PowerEngine {
  const config = power.config.power;
  return new PowerEngine(power, {
    maxLoaded: config.maxLoadedModels,
    maxQueue: config.maxQueue,
    parallel: config.parallel,
    threads: config.threads,
    ...(config.contextLength === undefined ? {} : { contextLength: config.contextLength }),
    keepAlive: config.keepAlive,
    onLoad: (runner) => metrics.loadDuration.observe({ model: runner.spec.name }, runner.loadMs / 1000),
    onUnload: (runner, reason) => metrics.evictions.inc({ model: runner.spec.name, reason }),
  });
}

type Handler = (request: Request, params: string) => Response | Promise<Response>;

export function startPowerServer(power: PowerContext, options: ServeOptions): RunningServer {
  const metrics = new PowerMetrics();
  const engine = configuredEngine(power, metrics);
  const record = (
    endpoint: string,
    model: string,
    promptTokens: number,
    completionTokens: number,
    started: number,
    status: number,
  ) => {
    try {
      recordUsage(power.db, {
        at: new Date(),
        model,
        endpoint,
        promptTokens,
        completionTokens,
        durationNs: Math.round((performance.now() - started) * 1e6),
        status,
      });
    } catch (err) {
      log.warn("cannot record usage", { error: err });
    }
  };

  // Rows are keyed as completions name models ("tiny:latest"), so a request for "tiny" that failed
  // and one that succeeded add up on the same line of `power usage`.
  const nameOf = (model: string) => {
    try {
      return displayName(parseModelName(model, power.registry.host), power.registry.host);
    } catch {
      return model;
    }
  };

  const ctx: ServerContext = {
    engine,
    power,
    metrics,
    async track(endpoint, model, run) {
      const started = performance.now();
      try {
        const completion = await run();
        const { stats } = completion;
        metrics.tokens.inc({ model: completion.model, direction: "in" }, stats.promptTokens);
        metrics.tokens.inc({ model: completion.model, direction: "out" }, stats.completionTokens);
        if (stats.completionTokens > 0) {
          metrics.timeToFirstToken.observe({ model: completion.model }, stats.firstTokenNs / 1e9);
        }
        // 499 (nginx's "client closed request"): the client left and generation stopped early.
        const status = completion.doneReason === "abort" ? 499 : 200;
        record(endpoint, completion.model, stats.promptTokens, stats.completionTokens, started, status);
        return completion;
      } catch (err) {
        record(endpoint, nameOf(model), 0, 0, started, statusOf(err));
        throw err;
      }
    },
    async trackEmbed(endpoint, model, run) {
      const started = performance.now();
      const name = nameOf(model);
      try {
        const result = await run();
        metrics.tokens.inc({ model: name, direction: "in" }, result.promptTokens);
        record(endpoint, name, result.promptTokens, 0, started, 200);
        return result;
      } catch (err) {
        record(endpoint, name, 0, 0, started, statusOf(err));
        throw err;
      }
    },
  };

  const ollama = ollamaRoutes(ctx);
  const openai = openaiRoutes(ctx);

  const routes: Record<string, Handler> = {
    "GET /": () =>
      new Response("Ollama is running", { headers: { "content-type": "text/plain; charset=utf-8" } }),
    "HEAD /": () => new Response(null),
    "GET /api/version": () => json({ version: OLLAMA_API_VERSION, a3s: VERSION }),
    "GET /api/tags": ollama.tags,
    "GET /api/ps": ollama.ps,
    "POST /api/generate": ollama.generate,
    "POST /api/chat": ollama.chat,
    "POST /api/embed": ollama.embed,
    "POST /api/embeddings": ollama.embeddings,
    "POST /api/pull": ollama.pull,
    "POST /api/push": ollama.push,
    "POST /api/show": ollama.show,
    "POST /api/create": ollama.create,
    "POST /api/copy": ollama.copy,
    "DELETE /api/delete": ollama.remove,
    "HEAD /api/blobs/*": (_, digest) => ollama.headBlob(digest),
    "POST /api/blobs/*": (request, digest) => ollama.postBlob(digest, request),
    "GET /v1/models": openai.models,
    "GET /v1/models/*": (_, id) => openai.model(decodeURIComponent(id)),
    "POST /v1/chat/completions": openai.chatCompletions,
    "POST /v1/completions": openai.completions,
    "POST /v1/embeddings": openai.embeddings,
    "GET /metrics": () => {
      metrics.loadedModels.set({}, engine.loaded().length);
      metrics.queued.set({}, engine.queued);
      return new Response(metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4" } });
    },
  };

  function route(method: string, pathname: string): { handler?: Handler; key: string; param: string } {
    const exact = routes[`${method} ${pathname}`];
    if (exact) return { handler: exact, key: pathname, param: "" };
    for (const prefix of ["/api/blobs/", "/v1/models/"]) {
      if (pathname.startsWith(prefix) && pathname.length > prefix.length) {
        const handler = routes[`${method} ${prefix}*`];
        if (handler) return { handler, key: `${prefix}:id`, param: pathname.slice(prefix.length) };
      }
    }
    return { key: "unmatched", param: "" };
  }

  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    // Generations can run for minutes without a byte when not streamed.
    idleTimeout: 0,
    async fetch(request) {
      const started = performance.now();
      const { pathname } = new URL(request.url);
      const { handler, key, param } = route(request.method, pathname);
      const errorShape = pathname.startsWith("/v1/") ? openai.error : ollama.error;
      let response: Response;
      if (!handler) {
        response = errorShape(new A3sError("not_found", `${request.method} ${pathname}: no such route`));
      } else {
        try {
          response = await handler(request, param);
        } catch (err) {
          if (statusOf(err) >= 500) log.error(`${request.method} ${pathname}`, { error: err });
          response = errorShape(err);
        }
      }
      metrics.requests.inc({ route: key, method: request.method, status: String(response.status) });
      metrics.requestDuration.observe({ route: key }, (performance.now() - started) / 1000);
      log.debug(`${request.method} ${pathname} ${response.status}`);
      return response;
    },
  });

  return {
    url: `http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port}`,
    engine,
    async stop() {
      await server.stop(true);
      await engine.close();
    },
  };
}
