/**
 * power's inference engine: resolves a model name to its weights, template and parameters in the
 * store, keeps models loaded through the scheduler, and answers chat, generate and embed requests
 * with Ollama's semantics (options layered over the model's params, keep_alive, `raw`, `context`,
 * JSON mode, tool calls). The HTTP server and `power run` are both thin layers over this.
 */
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import type { PowerContext } from "../context.ts";
import type { readGgufFile } from "../gguf.ts";
import { layersOf } from "../manifest.ts";
import { displayName, formatName, parseModelName } from "../name.ts";
import { capabilities, DEFAULT_TEMPLATE, readModelParts, readParams, textLayers } from "../show.ts";
import type { ModelDetails } from "../store.ts";
import { getLlamaBackend } from "./llama.ts";
import {
  type ChatMessage,
  mayBeToolCall,
  parseToolCalls,
  type ToolCall,
  type ToolDefinition,
} from "./messages.ts";
import { type ModelOptions, mergeOptions, parseKeepAlive } from "./options.ts";
import { buildPrompt, type PromptTemplate } from "./prompt.ts";
import {
  type DoneReason,
  type EmbedResult,
  ModelRunner,
  type OutputFormat,
  type RunnerSpec,
} from "./runner.ts";
import { type LoadedInfo, Scheduler, type UnloadReason } from "./scheduler.ts";
import { physicalCores } from "./threads.ts";

const log = logger("power.engine");

/** What a request needs to know about a model, read from the store once per manifest digest. */
export interface ModelMeta {
  /** As clients name it: "tiny:latest", "user/model:tag". */
  name: string;
  /** Canonical key: host/namespace/model:tag. */
  key: string;
  digest: string;
  weightsPath: string;
  details: ModelDetails;
  params: Record<string, unknown>;
  template: PromptTemplate;
  system: string;
  /** Messages baked into the model (Modelfile MESSAGE). */
  messages: ChatMessage[];
  capabilities: string[];
}

export interface EngineOptions {
  maxLoaded: number;
  maxQueue: number;
  parallel: number;
  threads?: number;
  /** num_ctx for models whose Modelfile and request set none (power.contextLength). */
  contextLength?: number;
  /** Default keep_alive (power.keepAlive / OLLAMA_KEEP_ALIVE). */
  keepAlive: string;
  onLoad?(runner: ModelRunner): void;
  onUnload?(runner: ModelRunner, reason: UnloadReason): void;
}

export interface Stats {
  totalNs: number;
  loadNs: number;
  promptTokens: number;
  promptEvalNs: number;
  completionTokens: number;
  evalNs: number;
  /** From the request reaching the engine to the first generated token. */
  firstTokenNs: number;
}

export interface Completion {
  model: string;
  createdAt: Date;
  content: string;
  toolCalls: ToolCall[];
  doneReason: DoneReason;
  stats: Stats;
  /** Tokens to continue from (/api/generate's `context`). */
  context?: number[];
}

interface CommonRequest {
  model: string;
  options?: Record<string, unknown>;
  keepAlive?: unknown;
  format?: OutputFormat;
  signal?: AbortSignal;
  /** Streamed content as it is generated (held back while it may be a tool call). */
  onText?(text: string): void;
}

export interface ChatRequest extends CommonRequest {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
}

export interface GenerateRequest extends CommonRequest {
  prompt: string;
  system?: string;
  /** Overrides the model's template for this request. */
  template?: string;
  /** The prompt is complete: no template. */
  raw?: boolean;
  context?: number[];
}

export interface LoadedModel {
  meta: Pick<ModelMeta, "name" | "key" | "digest" | "details">;
  sizeBytes: number;
  contextSize: number;
  expiresAt: number;
  users: number;
}

interface SpecWithMeta extends RunnerSpec {
  meta: ModelMeta;
}

export class PowerEngine {
  private readonly scheduler: Scheduler<SpecWithMeta, ModelRunner & { spec: SpecWithMeta }>;
  private readonly metaCache = new Map<string, ModelMeta>();
  private readonly threads: number;
  private readonly defaultKeepAliveMs: number;

  /** Options the server sets below a model's own parameters. */
  private serverDefaults(): Record<string, unknown> | undefined {
    return this.options.contextLength === undefined ? undefined : { num_ctx: this.options.contextLength };
  }

  constructor(
    private readonly power: PowerContext,
    private readonly options: EngineOptions,
  ) {
    this.threads = options.threads ?? physicalCores();
    this.defaultKeepAliveMs = parseKeepAlive(options.keepAlive);
    this.scheduler = new Scheduler({
      maxLoaded: options.maxLoaded,
      maxQueue: options.maxQueue,
      keyOf: (spec) => spec.meta.key,
      sameLoad: (a, b) =>
        a.digest === b.digest &&
        a.contextSize === b.contextSize &&
        a.threads === b.threads &&
        a.batchSize === b.batchSize,
      load: async (spec) => {
        const llama = await getLlamaBackend((level, message) => log.debug(`llama.cpp ${level}: ${message}`));
        const runner = await ModelRunner.load(llama, spec);
        log.info(`loaded ${spec.name} in ${Math.round(runner.loadMs)} ms`);
        return runner as ModelRunner & { spec: SpecWithMeta };
      },
      onLoad: (runner) => options.onLoad?.(runner),
      onUnload: (runner, reason) => {
        log.info(`unloaded ${runner.spec.name} (${reason})`);
        options.onUnload?.(runner, reason);
      },
    });
  }

  /** Reads a model's meta from the store; unknown names are Ollama's "model not found". */
  async resolve(text: string): Promise<ModelMeta> {
    const { store } = this.power;
    const name = parseModelName(text, this.power.registry.host);
    const record = store.get(name);
    if (!record) {
      throw new A3sError("not_found", `model '${text}' not found`, {
        hint: `pull it first: a3s power pull ${text}`,
      });
    }
    const cached = this.metaCache.get(record.digest);
    if (cached) return cached;
    const manifest = store.readManifest(record);
    const weights = layersOf(manifest, "model")[0];
    if (!weights) throw new A3sError("integrity", `model '${text}' has no weights layer`);
    const { header } = await readModelParts(store, manifest);
    const goTemplate = textLayers(store, manifest, "template")[0];
    const chatTemplate = header?.metadata.get("tokenizer.chat_template");
    const template: PromptTemplate = goTemplate
      ? { kind: "go", text: goTemplate }
      : typeof chatTemplate === "string"
        ? { kind: "jinja", text: chatTemplate, ...specialTokens(header) }
        : { kind: "go", text: DEFAULT_TEMPLATE };
    const meta: ModelMeta = {
      name: displayName(name, this.power.registry.host),
      key: formatName(name),
      digest: record.digest,
      weightsPath: store.blobPath(weights.digest),
      details: record.details,
      params: readParams(store, manifest),
      template,
      system: textLayers(store, manifest, "system")[0] ?? "",
      messages: readMessages(store, manifest),
      capabilities: capabilities(manifest, goTemplate ?? DEFAULT_TEMPLATE, header),
    };
    if (template.kind === "jinja" && template.text.includes("tools")) meta.capabilities.push("tools");
    this.metaCache.set(record.digest, meta);
    return meta;
  }

  private spec(meta: ModelMeta, options: ModelOptions): SpecWithMeta {
    return {
      meta,
      name: meta.name,
      digest: meta.digest,
      weightsPath: meta.weightsPath,
      contextSize: options.num_ctx,
      sequences: this.options.parallel,
      threads: options.num_thread > 0 ? options.num_thread : this.threads,
      batchSize: options.num_batch,
    };
  }

  private keepAliveOf(value: unknown): number {
    return value === undefined || value === null ? this.defaultKeepAliveMs : parseKeepAlive(value);
  }

  private queuedInRunners(): number {
    return this.scheduler
      .loaded()
      .reduce((sum, info) => sum + Math.max(0, info.model.busy - info.model.spec.sequences), 0);
  }

  /**
   * The model a chat request names, refused (as Ollama does, with a 400) when it is given tools its
   * template cannot show it. Streaming routes call this before the headers go out.
   */
  async resolveChat(model: string, tools: readonly ToolDefinition[] | undefined): Promise<ModelMeta> {
    const meta = await this.resolve(model);
    if (tools?.length && !meta.capabilities.includes("tools")) {
      throw new A3sError("usage", `${model} does not support tools`);
    }
    return meta;
  }

  async chat(request: ChatRequest): Promise<Completion> {
    const meta = await this.resolveChat(request.model, request.tools);
    const messages = [...meta.messages, ...request.messages];
    const prompt = buildPrompt(meta.template, { messages, tools: request.tools, system: meta.system });
    return this.complete(meta, request, prompt, request.tools ?? []);
  }

  async generate(request: GenerateRequest): Promise<Completion> {
    const meta = await this.resolve(request.model);
    let prompt = request.prompt;
    if (!request.raw) {
      const template: PromptTemplate = request.template
        ? { kind: "go", text: request.template }
        : meta.template;
      const system = request.system ?? meta.system;
      prompt = buildPrompt(template, {
        messages: [
          ...(system ? [{ role: "system" as const, content: system }] : []),
          { role: "user", content: request.prompt },
        ],
      });
    }
    const completion = await this.complete(meta, request, prompt, [], request.context);
    return completion;
  }

  private async complete(
    meta: ModelMeta,
    request: CommonRequest,
    prompt: string,
    tools: readonly ToolDefinition[],
    context?: number[],
  ): Promise<Completion> {
    const started = performance.now();
    const { options, unknown } = mergeOptions(this.serverDefaults(), meta.params, request.options);
    if (unknown.length > 0) log.warn(`invalid option provided: ${unknown.join(", ")}`);
    const keepAliveMs = this.keepAliveOf(request.keepAlive);
    const spec = this.spec(meta, options);
    return this.scheduler.use(
      spec,
      keepAliveMs,
      async (runner, loadMs) => {
        const streamer = tools.length > 0 ? holdToolCalls(request.onText) : undefined;
        const result = await runner.generate({
          prompt,
          context,
          options,
          format: request.format,
          signal: request.signal,
          onText: streamer?.push ?? request.onText,
        });
        const parsed = parseToolCalls(result.text, tools);
        if (parsed.toolCalls.length === 0) streamer?.flush();
        return {
          model: meta.name,
          createdAt: new Date(),
          content: parsed.content,
          toolCalls: parsed.toolCalls,
          doneReason: result.doneReason,
          context: result.tokens,
          stats: {
            totalNs: Math.round((performance.now() - started) * 1e6),
            loadNs: Math.round(loadMs * 1e6),
            promptTokens: result.promptTokens,
            promptEvalNs: result.promptEvalNs,
            completionTokens: result.completionTokens,
            evalNs: result.evalNs,
            firstTokenNs: result.firstTokenNs + Math.round(loadMs * 1e6),
          },
        };
      },
      this.queuedInRunners(),
    );
  }

  async embed(
    model: string,
    inputs: readonly string[],
    options: { truncate?: boolean; keepAlive?: unknown; options?: Record<string, unknown> } = {},
  ): Promise<EmbedResult & { model: string; totalNs: number; loadNs: number }> {
    const started = performance.now();
    const meta = await this.resolve(model);
    const merged = mergeOptions(this.serverDefaults(), meta.params, options.options).options;
    return this.scheduler.use(
      this.spec(meta, merged),
      this.keepAliveOf(options.keepAlive),
      async (runner, loadMs) => {
        const result = await runner.embed(inputs, options.truncate !== false);
        return {
          ...result,
          model: meta.name,
          totalNs: Math.round((performance.now() - started) * 1e6),
          loadNs: Math.round(loadMs * 1e6),
        };
      },
      this.queuedInRunners(),
    );
  }

  /** Loads a model and sets its keep_alive, as a request with an empty prompt does in Ollama. */
  async load(
    model: string,
    keepAlive?: unknown,
    options?: Record<string, unknown>,
  ): Promise<{ loadNs: number }> {
    const meta = await this.resolve(model);
    const merged = mergeOptions(this.serverDefaults(), meta.params, options).options;
    return this.scheduler.use(this.spec(meta, merged), this.keepAliveOf(keepAlive), async (_, loadMs) => ({
      loadNs: Math.round(loadMs * 1e6),
    }));
  }

  /** Unloads a model; false when it was not loaded. */
  async unload(model: string): Promise<boolean> {
    const name = parseModelName(model, this.power.registry.host);
    return this.scheduler.unload(formatName(name), "requested");
  }

  loaded(): LoadedModel[] {
    return this.scheduler.loaded().map((info: LoadedInfo<ModelRunner & { spec: SpecWithMeta }>) => ({
      meta: info.model.spec.meta,
      sizeBytes: info.model.sizeBytes,
      contextSize: info.model.contextSize,
      expiresAt: info.expiresAt,
      users: info.users,
    }));
  }

  get queued(): number {
    return this.scheduler.queued + this.queuedInRunners();
  }

  /** Forgets cached metadata (after create, rm or pull replaced a model). */
  invalidate(): void {
    this.metaCache.clear();
  }

  close(): Promise<void> {
    return this.scheduler.close();
  }
}

/** BOS/EOS strings a Jinja chat template refers to as bos_token/eos_token. */
function specialTokens(header: Awaited<ReturnType<typeof readGgufFile>> | undefined): {
  bosToken: string;
  eosToken: string;
} {
  const tokens = header?.metadata.get("tokenizer.ggml.tokens");
  const pick = (key: string) => {
    const id = header?.metadata.get(key);
    return Array.isArray(tokens) && typeof id === "number" && typeof tokens[id] === "string"
      ? (tokens[id] as string)
      : "";
  };
  return { bosToken: pick("tokenizer.ggml.bos_token_id"), eosToken: pick("tokenizer.ggml.eos_token_id") };
}

function readMessages(
  store: PowerContext["store"],
  manifest: ReturnType<PowerContext["store"]["readManifest"]>,
): ChatMessage[] {
  const layer = layersOf(manifest, "messages")[0];
  if (!layer) return [];
  try {
    const parsed = JSON.parse(new TextDecoder().decode(store.readBlob(layer.digest)));
    return Array.isArray(parsed) ? (parsed as ChatMessage[]) : [];
  } catch {
    log.warn(`the messages layer ${layer.digest} is not JSON`);
    return [];
  }
}

/**
 * Streams content unless it may be a tool call: then it is held until the model finishes, and
 * either parsed into tool calls or flushed as content.
 */
function holdToolCalls(onText: ((text: string) => void) | undefined) {
  let held = "";
  let streaming = false;
  return {
    push(text: string) {
      if (streaming) {
        onText?.(text);
        return;
      }
      held += text;
      if (!mayBeToolCall(held)) {
        streaming = true;
        onText?.(held);
        held = "";
      }
    },
    flush() {
      if (held !== "") onText?.(held);
      held = "";
    },
  };
}
