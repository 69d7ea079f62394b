/**
 * Ollama's HTTP API (docs/api.md): the routes the official `ollama` clients call, with its request
 * fields, NDJSON streaming, final statistics in nanoseconds and `{"error": …}` bodies. This module
 * holds inference (generate, chat, embed, ps, load and unload); model management is in
 * ollama-models.ts and joins the same route object.
 */
import { z } from "zod";
import type { Completion } from "../engine/engine.ts";
import type { ChatMessage, ToolDefinition } from "../engine/messages.ts";
import { mergeOptions, parseKeepAlive } from "../engine/options.ts";
import { json, messageOf, ollamaError, readBody, streamed } from "./http.ts";
import { ollamaModelRoutes } from "./ollama-models.ts";
import { NDJSON, named } from "./ollama-schema.ts";
import type { ServerContext } from "./server.ts";

/** The Ollama version whose API this server implements; clients gate features on it. */
export const OLLAMA_API_VERSION = "0.12.6";

const Options = z.record(z.string(), z.unknown()).optional();
const KeepAlive = z.union([z.string(), z.number()]).optional();
const Format = z.union([z.literal("json"), z.literal(""), z.record(z.string(), z.unknown())]).optional();

const ToolCallSchema = z.object({
  function: z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).default({}) }),
});

const MessageSchema = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.string().default(""),
  images: z.array(z.string()).optional(),
  tool_calls: z.array(ToolCallSchema).optional(),
  tool_name: z.string().optional(),
  thinking: z.string().optional(),
});

const ToolSchema = z.object({
  type: z.literal("function").default("function"),
  function: z.object({
    name: z.string(),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

const GenerateSchema = named({
  prompt: z.string().default(""),
  suffix: z.string().optional(),
  system: z.string().optional(),
  template: z.string().optional(),
  context: z.array(z.number().int()).optional(),
  raw: z.boolean().optional(),
  format: Format,
  stream: z.boolean().default(true),
  options: Options,
  keep_alive: KeepAlive,
  images: z.array(z.string()).optional(),
});

const ChatSchema = named({
  messages: z.array(MessageSchema).default([]),
  tools: z.array(ToolSchema).optional(),
  format: Format,
  stream: z.boolean().default(true),
  options: Options,
  keep_alive: KeepAlive,
});

const EmbedSchema = named({
  input: z.union([z.string(), z.array(z.string())]).default([]),
  truncate: z.boolean().default(true),
  options: Options,
  keep_alive: KeepAlive,
});

const EmbeddingsSchema = named({ prompt: z.string().default(""), options: Options, keep_alive: KeepAlive });

const formatOf = (format: z.infer<typeof Format>) => (format === "" ? undefined : format);

/** Bad options or keep_alive are a 400 before anything is streamed, as in Ollama. */
function checkOptions(body: { options?: Record<string, unknown>; keep_alive?: unknown }): void {
  mergeOptions(body.options);
  if (body.keep_alive !== undefined) parseKeepAlive(body.keep_alive);
}

/** The statistics Ollama adds to the last message of a generation. */
function finalStats(completion: Completion) {
  const { stats } = completion;
  return {
    done_reason: completion.doneReason === "abort" ? "stop" : completion.doneReason,
    total_duration: stats.totalNs,
    load_duration: stats.loadNs,
    prompt_eval_count: stats.promptTokens,
    prompt_eval_duration: stats.promptEvalNs,
    eval_count: stats.completionTokens,
    eval_duration: stats.evalNs,
  };
}

export function ollamaRoutes(ctx: ServerContext) {
  const { engine } = ctx;

  async function generate(request: Request): Promise<Response> {
    const body = await readBody(request, GenerateSchema);
    checkOptions(body);
    // An empty prompt only loads (or, with keep_alive 0, unloads) the model.
    if (body.prompt === "" && !body.raw) return loadOrUnload(body.model, body.keep_alive);
    const run = (signal: AbortSignal, onText?: (text: string) => void) =>
      ctx.track("/api/generate", body.model, () =>
        engine.generate({
          model: body.model,
          prompt: body.prompt,
          system: body.system,
          template: body.template,
          raw: body.raw,
          context: body.context,
          format: formatOf(body.format),
          options: body.options,
          keepAlive: body.keep_alive,
          signal,
          onText,
        }),
      );
    if (!body.stream) {
      const completion = await run(request.signal);
      return json({
        model: completion.model,
        created_at: completion.createdAt.toISOString(),
        response: completion.content,
        done: true,
        ...(body.raw ? {} : { context: completion.context }),
        ...finalStats(completion),
      });
    }
    // Resolve before streaming so an unknown model is a 404, not an in-band error.
    const meta = await engine.resolve(body.model);
    return streamed(
      request,
      NDJSON,
      async ({ write, signal }) => {
        const completion = await run(signal, (text) =>
          write(
            `${JSON.stringify({ model: meta.name, created_at: new Date().toISOString(), response: text, done: false })}\n`,
          ),
        );
        write(
          `${JSON.stringify({
            model: completion.model,
            created_at: completion.createdAt.toISOString(),
            response: "",
            done: true,
            ...(body.raw ? {} : { context: completion.context }),
            ...finalStats(completion),
          })}\n`,
        );
      },
      (err) => `${JSON.stringify({ error: messageOf(err) })}\n`,
    );
  }

  async function loadOrUnload(model: string, keepAlive: unknown): Promise<Response> {
    const meta = await engine.resolve(model);
    const unload = keepAlive === 0 || keepAlive === "0" || keepAlive === "0s";
    if (unload) await engine.unload(model);
    else await engine.load(model, keepAlive);
    return json({
      model: meta.name,
      created_at: new Date().toISOString(),
      response: "",
      done: true,
      done_reason: unload ? "unload" : "load",
    });
  }

  async function chat(request: Request): Promise<Response> {
    const body = await readBody(request, ChatSchema);
    checkOptions(body);
    if (body.messages.length === 0) {
      const response = await loadOrUnload(body.model, body.keep_alive);
      const loaded = (await response.json()) as Record<string, unknown>;
      delete loaded.response;
      return json({ ...loaded, message: { role: "assistant", content: "" } });
    }
    const run = (signal: AbortSignal, onText?: (text: string) => void) =>
      ctx.track("/api/chat", body.model, () =>
        engine.chat({
          model: body.model,
          messages: body.messages as ChatMessage[],
          tools: body.tools as ToolDefinition[] | undefined,
          format: formatOf(body.format),
          options: body.options,
          keepAlive: body.keep_alive,
          signal,
          onText,
        }),
      );
    const assistant = (completion: Completion) => ({
      role: "assistant",
      content: completion.content,
      ...(completion.toolCalls.length > 0 ? { tool_calls: completion.toolCalls } : {}),
    });
    if (!body.stream) {
      const completion = await run(request.signal);
      return json({
        model: completion.model,
        created_at: completion.createdAt.toISOString(),
        message: assistant(completion),
        done: true,
        ...finalStats(completion),
      });
    }
    const meta = await engine.resolveChat(body.model, body.tools as ToolDefinition[] | undefined);
    return streamed(
      request,
      NDJSON,
      async ({ write, signal }) => {
        const completion = await run(signal, (text) =>
          write(
            `${JSON.stringify({
              model: meta.name,
              created_at: new Date().toISOString(),
              message: { role: "assistant", content: text },
              done: false,
            })}\n`,
          ),
        );
        if (completion.toolCalls.length > 0) {
          write(
            `${JSON.stringify({
              model: completion.model,
              created_at: completion.createdAt.toISOString(),
              message: { role: "assistant", content: "", tool_calls: completion.toolCalls },
              done: false,
            })}\n`,
          );
        }
        write(
          `${JSON.stringify({
            model: completion.model,
            created_at: completion.createdAt.toISOString(),
            message: { role: "assistant", content: "" },
            done: true,
            ...finalStats(completion),
          })}\n`,
        );
      },
      (err) => `${JSON.stringify({ error: messageOf(err) })}\n`,
    );
  }

  async function embed(request: Request): Promise<Response> {
    const body = await readBody(request, EmbedSchema);
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    const result = await ctx.trackEmbed("/api/embed", body.model, () =>
      engine.embed(body.model, inputs, {
        truncate: body.truncate,
        keepAlive: body.keep_alive,
        options: body.options,
      }),
    );
    return json({
      model: result.model,
      embeddings: result.embeddings,
      total_duration: result.totalNs,
      load_duration: result.loadNs,
      prompt_eval_count: result.promptTokens,
    });
  }

  /** The legacy endpoint: one prompt, one vector. */
  async function embeddings(request: Request): Promise<Response> {
    const body = await readBody(request, EmbeddingsSchema);
    if (body.prompt === "") return json({ embedding: [] });
    const result = await ctx.trackEmbed("/api/embeddings", body.model, () =>
      engine.embed(body.model, [body.prompt], { keepAlive: body.keep_alive, options: body.options }),
    );
    return json({ embedding: result.embeddings[0] ?? [] });
  }

  function ps(): Response {
    const models = engine.loaded().map((loaded) => ({
      name: loaded.meta.name,
      model: loaded.meta.name,
      size: loaded.sizeBytes,
      digest: loaded.meta.digest.replace(/^sha256:/, ""),
      details: loaded.meta.details,
      expires_at: expiresAt(loaded.expiresAt),
      size_vram: 0,
      context_length: loaded.contextSize,
    }));
    return json({ models });
  }

  return {
    generate,
    chat,
    embed,
    embeddings,
    ...ollamaModelRoutes(ctx),
    ps,
    error: ollamaError,
  };
}

/** Ollama shows a model kept forever as expiring in the far future, not as null. */
function expiresAt(epochMs: number): string {
  const far = Date.UTC(2318, 0, 1);
  return new Date(Number.isFinite(epochMs) ? epochMs : far).toISOString();
}
