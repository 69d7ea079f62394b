/**
 * OpenAI's API as the official `openai` clients call it: /v1/models, chat completions (SSE chunks
 * ending in `data: [DONE]`, tools and tool_calls, response_format, usage), legacy completions and
 * embeddings, mapped onto the engine with Ollama's conventions (system_fingerprint "fp_ollama").
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import type { Completion } from "../engine/engine.ts";
import type { ChatMessage, ToolCall, ToolDefinition } from "../engine/messages.ts";
import type { OutputFormat } from "../engine/runner.ts";
import { displayName } from "../name.ts";
import { json, openaiError, openaiErrorBody, readBody, streamed } from "./http.ts";
import type { ServerContext } from "./server.ts";

const SSE = "text/event-stream";
const FINGERPRINT = "fp_ollama";

const ContentPart = z.object({ type: z.string(), text: z.string().optional() }).loose();
const Content = z.union([z.string(), z.array(ContentPart), z.null()]).optional();

const OpenAiToolCall = z.object({
  id: z.string().optional(),
  type: z.literal("function").default("function"),
  function: z.object({ name: z.string(), arguments: z.string().default("{}") }),
});

const OpenAiMessage = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: Content,
  name: z.string().optional(),
  tool_calls: z.array(OpenAiToolCall).optional(),
  tool_call_id: z.string().optional(),
});

const Stop = z.union([z.string(), z.array(z.string()), z.null()]).optional();

const Sampling = {
  model: z.string().min(1, "model is required"),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().nullish(),
  max_completion_tokens: z.number().int().nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  seed: z.number().int().nullish(),
  stop: Stop,
  frequency_penalty: z.number().nullish(),
  presence_penalty: z.number().nullish(),
};

const ChatCompletionSchema = z.object({
  ...Sampling,
  messages: z.array(OpenAiMessage).min(1, "messages must not be empty"),
  tools: z
    .array(
      z.object({
        type: z.literal("function"),
        function: z.object({
          name: z.string(),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .nullish(),
  tool_choice: z.unknown().optional(),
  response_format: z
    .object({
      type: z.enum(["text", "json_object", "json_schema"]),
      json_schema: z
        .object({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()) })
        .optional(),
    })
    .nullish(),
});

const CompletionSchema = z.object({
  ...Sampling,
  prompt: z.union([z.string(), z.array(z.string())]),
  suffix: z.string().nullish(),
});

const EmbeddingSchema = z.object({
  model: z.string().min(1, "model is required"),
  input: z.union([z.string(), z.array(z.string())]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().positive().optional(),
});

type SamplingBody = { [K in keyof typeof Sampling]?: z.infer<(typeof Sampling)[K]> };

/** OpenAI sampling fields as Ollama options (only those the client set). */
function optionsOf(body: SamplingBody): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) options.num_predict = maxTokens;
  if (body.temperature != null) options.temperature = body.temperature;
  if (body.top_p != null) options.top_p = body.top_p;
  if (body.seed != null) options.seed = body.seed;
  if (body.stop != null) options.stop = typeof body.stop === "string" ? [body.stop] : body.stop;
  if (body.frequency_penalty != null) options.frequency_penalty = body.frequency_penalty;
  if (body.presence_penalty != null) options.presence_penalty = body.presence_penalty;
  return options;
}

function textOf(content: z.infer<typeof Content>): string {
  if (content == null) return "";
  if (typeof content === "string") return content;
  return content
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("");
}

/** OpenAI messages as Ollama's: arguments parsed, tool results named by the call they answer. */
function toMessages(messages: z.infer<typeof OpenAiMessage>[]): ChatMessage[] {
  const callNames = new Map<string, string>();
  return messages.map((message): ChatMessage => {
    const role = message.role === "developer" ? "system" : message.role;
    const toolCalls = message.tool_calls?.map((call): ToolCall => {
      if (call.id) callNames.set(call.id, call.function.name);
      let args: unknown;
      try {
        args = JSON.parse(call.function.arguments);
      } catch {
        throw new A3sError("usage", `tool call ${call.function.name}: arguments are not JSON`);
      }
      return { function: { name: call.function.name, arguments: (args ?? {}) as Record<string, unknown> } };
    });
    return {
      role,
      content: textOf(message.content),
      ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
      ...(role === "tool" && message.tool_call_id
        ? { tool_name: callNames.get(message.tool_call_id) ?? message.name }
        : {}),
    };
  });
}

function formatOf(format: z.infer<typeof ChatCompletionSchema>["response_format"]): OutputFormat {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return "json";
  if (!format.json_schema) throw new A3sError("usage", "response_format.json_schema is required");
  return format.json_schema.schema;
}

const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex").slice(0, 24)}`;
const unixNow = () => Math.floor(Date.now() / 1000);

function usageOf(completion: Completion) {
  const { promptTokens, completionTokens } = completion.stats;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function finishReason(completion: Completion): "stop" | "length" | "tool_calls" {
  if (completion.toolCalls.length > 0) return "tool_calls";
  return completion.doneReason === "length" ? "length" : "stop";
}

function openAiToolCalls(calls: ToolCall[]) {
  return calls.map((call, index) => ({
    id: `call_${randomBytes(6).toString("hex")}`,
    index,
    type: "function" as const,
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments) },
  }));
}

const sse = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const sseError = (err: unknown) => `${sse(openaiErrorBody(err))}data: [DONE]\n\n`;

export function openaiRoutes(ctx: ServerContext) {
  const { engine, power } = ctx;

  async function chatCompletions(request: Request): Promise<Response> {
    const body = await readBody(request, ChatCompletionSchema);
    const id = newId("chatcmpl");
    const created = unixNow();
    const run = (signal: AbortSignal, onText?: (text: string) => void) =>
      ctx.track("/v1/chat/completions", body.model, () =>
        engine.chat({
          model: body.model,
          messages: toMessages(body.messages),
          tools: (body.tools ?? undefined) as ToolDefinition[] | undefined,
          format: formatOf(body.response_format),
          options: optionsOf(body),
          signal,
          onText,
        }),
      );
    if (!body.stream) {
      const completion = await run(request.signal);
      return json({
        id,
        object: "chat.completion",
        created,
        model: body.model,
        system_fingerprint: FINGERPRINT,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: completion.content,
              ...(completion.toolCalls.length > 0
                ? { tool_calls: openAiToolCalls(completion.toolCalls) }
                : {}),
            },
            finish_reason: finishReason(completion),
          },
        ],
        usage: usageOf(completion),
      });
    }
    await engine.resolveChat(body.model, body.tools as ToolDefinition[] | undefined);
    const chunk = (delta: object, finish: string | null) =>
      sse({
        id,
        object: "chat.completion.chunk",
        created,
        model: body.model,
        system_fingerprint: FINGERPRINT,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    return streamed(
      request,
      SSE,
      async ({ write, signal }) => {
        let first = true;
        const completion = await run(signal, (text) => {
          write(chunk(first ? { role: "assistant", content: text } : { content: text }, null));
          first = false;
        });
        if (completion.toolCalls.length > 0) {
          write(
            chunk(
              { role: "assistant", content: null, tool_calls: openAiToolCalls(completion.toolCalls) },
              null,
            ),
          );
        }
        write(chunk({}, finishReason(completion)));
        if (body.stream_options?.include_usage) {
          write(
            sse({
              id,
              object: "chat.completion.chunk",
              created,
              model: body.model,
              system_fingerprint: FINGERPRINT,
              choices: [],
              usage: usageOf(completion),
            }),
          );
        }
        write("data: [DONE]\n\n");
      },
      sseError,
    );
  }

  async function completions(request: Request): Promise<Response> {
    const body = await readBody(request, CompletionSchema);
    const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt.join("");
    const id = newId("cmpl");
    const created = unixNow();
    const run = (signal: AbortSignal, onText?: (text: string) => void) =>
      ctx.track("/v1/completions", body.model, () =>
        engine.generate({ model: body.model, prompt, raw: true, options: optionsOf(body), signal, onText }),
      );
    const choice = (text: string, finish: string | null) => ({
      text,
      index: 0,
      logprobs: null,
      finish_reason: finish,
    });
    if (!body.stream) {
      const completion = await run(request.signal);
      return json({
        id,
        object: "text_completion",
        created,
        model: body.model,
        system_fingerprint: FINGERPRINT,
        choices: [choice(completion.content, finishReason(completion))],
        usage: usageOf(completion),
      });
    }
    await engine.resolve(body.model);
    const chunk = (text: string, finish: string | null, usage?: object) =>
      sse({
        id,
        object: "text_completion",
        created,
        model: body.model,
        system_fingerprint: FINGERPRINT,
        choices: [choice(text, finish)],
        ...(usage ? { usage } : {}),
      });
    return streamed(
      request,
      SSE,
      async ({ write, signal }) => {
        const completion = await run(signal, (text) => write(chunk(text, null)));
        write(
          chunk(
            "",
            finishReason(completion),
            body.stream_options?.include_usage ? usageOf(completion) : undefined,
          ),
        );
        write("data: [DONE]\n\n");
      },
      sseError,
    );
  }

  async function embeddings(request: Request): Promise<Response> {
    const body = await readBody(request, EmbeddingSchema);
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    if (inputs.length === 0) throw new A3sError("usage", "input must not be empty");
    const result = await ctx.trackEmbed("/v1/embeddings", body.model, () => engine.embed(body.model, inputs));
    const vectors = result.embeddings.map((vector) =>
      body.dimensions && body.dimensions < vector.length
        ? renormalize(vector.slice(0, body.dimensions))
        : vector,
    );
    return json({
      object: "list",
      data: vectors.map((vector, index) => ({
        object: "embedding",
        embedding: body.encoding_format === "base64" ? base64Floats(vector) : vector,
        index,
      })),
      model: body.model,
      usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
    });
  }

  function modelEntry(name: string, modifiedAt: string) {
    return {
      id: name,
      object: "model",
      created: Math.floor(new Date(modifiedAt).getTime() / 1000),
      owned_by: name.includes("/") ? (name.split("/").at(-2) ?? "library") : "library",
    };
  }

  function models(): Response {
    const data = power.store
      .list()
      .map((record) => modelEntry(displayName(record.name, power.registry.host), record.modifiedAt));
    return json({ object: "list", data });
  }

  async function model(id: string): Promise<Response> {
    const meta = await engine.resolve(id);
    const record = power.store.list().find((r) => r.digest === meta.digest);
    return json(modelEntry(meta.name, record?.modifiedAt ?? new Date().toISOString()));
  }

  return { chatCompletions, completions, embeddings, models, model, error: openaiError };
}

function renormalize(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

/** encoding_format "base64": little-endian float32s, as OpenAI sends them. */
function base64Floats(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}
