/**
 * One model loaded in llama.cpp: its weights, one context with N sequences (so N requests on the
 * same model decode together, batched by node-llama-cpp), and an embedding context made on first
 * use. Requests beyond N wait for a free sequence in arrival order.
 */
import type {
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaGrammar,
  LlamaModel,
  Token,
} from "node-llama-cpp";
import { A3sError } from "../../core/errors.ts";
import { importNodeLlamaCpp } from "./llama.ts";
import type { SamplingOptions } from "./options.ts";

export interface RunnerSpec {
  /** The model's name as clients use it ("llama3.2:3b"). */
  name: string;
  digest: string;
  weightsPath: string;
  contextSize: number;
  sequences: number;
  threads: number;
  batchSize: number;
}

/** What JSON mode or a JSON schema constrains output to. */
export type OutputFormat = "json" | Record<string, unknown> | undefined;

export interface GenerateRequest {
  /** The whole prompt, special tokens included, as the template rendered it. */
  prompt: string;
  /** Tokens of an earlier /api/generate exchange to continue (Ollama's `context`). */
  context?: readonly number[];
  options: SamplingOptions;
  format?: OutputFormat;
  signal?: AbortSignal;
  onText?: (text: string) => void;
}

export type DoneReason = "stop" | "length" | "abort";

/** Counts and durations in nanoseconds, as Ollama reports them. */
export interface GenerateResult {
  text: string;
  doneReason: DoneReason;
  promptTokens: number;
  completionTokens: number;
  promptEvalNs: number;
  evalNs: number;
  /** Nanoseconds from the request reaching the runner to the first generated token. */
  firstTokenNs: number;
  /** Prompt and generated tokens, for Ollama's `context`. */
  tokens: number[];
}

export interface EmbedResult {
  embeddings: number[][];
  promptTokens: number;
}

const nsSince = (start: number) => Math.round((performance.now() - start) * 1e6);

export class ModelRunner {
  readonly spec: RunnerSpec;
  readonly loadedAt = new Date();
  /** Milliseconds llama.cpp took to load the weights and create the context. */
  readonly loadMs: number;
  readonly sizeBytes: number;
  private readonly llama: Llama;
  private readonly model: LlamaModel;
  private readonly context: LlamaContext;
  private readonly free: LlamaContextSequence[];
  private readonly waiting: Array<(sequence: LlamaContextSequence) => void> = [];
  private embedding: Promise<LlamaEmbeddingContext> | undefined;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private disposed = false;

  private constructor(
    spec: RunnerSpec,
    llama: Llama,
    model: LlamaModel,
    context: LlamaContext,
    loadMs: number,
  ) {
    this.spec = spec;
    this.llama = llama;
    this.model = model;
    this.context = context;
    this.loadMs = loadMs;
    this.sizeBytes = model.size;
    this.free = Array.from({ length: context.totalSequences }, () => context.getSequence());
  }

  static async load(llama: Llama, spec: RunnerSpec): Promise<ModelRunner> {
    const started = performance.now();
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: spec.weightsPath, gpuLayers: "auto" });
    } catch (err) {
      throw new A3sError("runtime", `llama.cpp cannot load ${spec.name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      const context = await model.createContext({
        contextSize: Math.min(spec.contextSize, model.trainContextSize || spec.contextSize),
        sequences: spec.sequences,
        threads: spec.threads,
        batchSize: spec.batchSize,
      });
      return new ModelRunner(spec, llama, model, context, performance.now() - started);
    } catch (err) {
      await model.dispose();
      throw new A3sError("runtime", `cannot create a context for ${spec.name}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Requests decoding or waiting for a sequence. */
  get busy(): number {
    return this.context.totalSequences - this.free.length + this.waiting.length;
  }

  tokenize(text: string): Token[] {
    return this.model.tokenize(text, true);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const requested = performance.now();
    const sequence = await this.acquire(request.signal);
    try {
      return await this.generateOn(sequence, request, requested);
    } finally {
      this.release(sequence);
    }
  }

  private async generateOn(
    sequence: LlamaContextSequence,
    request: GenerateRequest,
    requested: number,
  ): Promise<GenerateResult> {
    const started = performance.now();
    const { LlamaCompletion } = await importNodeLlamaCpp();
    const promptTokens = [...((request.context ?? []) as Token[]), ...this.withoutLeadingBos(request.prompt)];
    const promptCount = promptTokens.length + (this.model.tokens.shouldPrependBosToken ? 1 : 0);
    this.checkPromptFits(promptCount);
    const { options } = request;
    const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
    const generated: Token[] = [];
    let firstToken = 0;
    try {
      const { response, metadata } = await completion.generateCompletionWithMeta(promptTokens, {
        signal: request.signal,
        stopOnAbortSignal: true,
        maxTokens: options.num_predict >= 0 ? options.num_predict : undefined,
        temperature: options.temperature,
        topK: options.top_k,
        topP: options.top_p,
        minP: options.min_p,
        seed: options.seed >= 0 ? options.seed : undefined,
        repeatPenalty: repeatPenalty(options),
        customStopTriggers: options.stop.length > 0 ? options.stop : undefined,
        contextShiftSize: contextShift(this.context.contextSize),
        grammar: await this.grammarFor(request.format),
        onToken: (tokens) => {
          if (firstToken === 0) firstToken = performance.now();
          generated.push(...tokens);
        },
        onTextChunk: request.onText,
      });
      const firstAt = firstToken || performance.now();
      // onToken can also report tokens held back while matching a stop trigger; the model never
      // decodes more than maxTokens.
      const decoded = options.num_predict >= 0 ? generated.slice(0, options.num_predict) : generated;
      return {
        text: response,
        doneReason:
          metadata.stopReason === "maxTokens" ? "length" : metadata.stopReason === "abort" ? "abort" : "stop",
        promptTokens: promptCount,
        completionTokens: decoded.length,
        promptEvalNs: Math.round((firstAt - started) * 1e6),
        evalNs: firstToken ? nsSince(firstToken) : 0,
        firstTokenNs: Math.round((firstAt - requested) * 1e6),
        tokens: [...promptTokens, ...decoded],
      };
    } catch (err) {
      if (request.signal?.aborted) throw new A3sError("interrupted", "the client went away");
      throw new A3sError("runtime", `generation failed: ${(err as Error).message}`, { cause: err });
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  }

  /**
   * node-llama-cpp would keep only the end of a prompt longer than the context, silently: for a chat
   * that drops the system prompt and the tool definitions first, and the model answers something
   * else with a 200. A clear error lets the client shorten the conversation or the user raise num_ctx.
   */
  private checkPromptFits(count: number): void {
    const size = this.context.contextSize;
    const room = size - contextShift(size);
    if (count <= room) return;
    const trained = this.model.trainContextSize;
    const advice =
      trained > size
        ? `shorten it, or raise num_ctx (the model takes up to ${trained}): PARAMETER num_ctx in a Modelfile, or options.num_ctx`
        : `shorten it: ${size} is the largest context the model takes`;
    throw new A3sError(
      "usage",
      `the prompt is ${count} tokens, more than the ${room} that fit in ${this.spec.name}'s context of ${size} tokens (num_ctx); ${advice}`,
    );
  }

  /** Templates that write the BOS token themselves must not get a second one from node-llama-cpp. */
  private withoutLeadingBos(prompt: string): Token[] {
    const tokens = this.tokenize(prompt);
    const bos = this.model.tokens.bos;
    return bos !== null && tokens[0] === bos && this.model.tokens.shouldPrependBosToken
      ? tokens.slice(1)
      : tokens;
  }

  private grammarFor(format: OutputFormat): Promise<LlamaGrammar> | undefined {
    if (format === undefined) return undefined;
    const key = format === "json" ? "json" : JSON.stringify(format);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      grammar =
        format === "json"
          ? this.llama.getGrammarFor("json")
          : this.llama.createGrammarForJsonSchema(format as never).catch((err: Error) => {
              this.grammars.delete(key);
              throw new A3sError("usage", `format: unsupported JSON schema: ${err.message}`);
            });
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  async embed(inputs: readonly string[], truncate: boolean): Promise<EmbedResult> {
    const contextSize = Math.min(this.spec.contextSize, this.model.trainContextSize || this.spec.contextSize);
    this.embedding ??= this.model.createEmbeddingContext({
      contextSize,
      threads: this.spec.threads,
      batchSize: this.spec.batchSize,
    });
    const context = await this.embedding;
    const embeddings: number[][] = [];
    let promptTokens = 0;
    for (const input of inputs) {
      let tokens = this.model.tokenize(input, false);
      const room = contextSize - 1;
      if (tokens.length > room) {
        if (!truncate) {
          throw new A3sError("usage", `input length (${tokens.length} tokens) exceeds the context length`);
        }
        tokens = tokens.slice(0, room);
      }
      promptTokens += tokens.length;
      const { vector } = await context.getEmbeddingFor(tokens);
      embeddings.push(normalize(vector));
    }
    return { embeddings, promptTokens };
  }

  private acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    if (this.disposed) return Promise.reject(new A3sError("runtime", `${this.spec.name} was unloaded`));
    const sequence = this.free.pop();
    if (sequence) return Promise.resolve(sequence);
    return new Promise((resolve, reject) => {
      const take = (granted: LlamaContextSequence) => {
        signal?.removeEventListener("abort", abandon);
        resolve(granted);
      };
      const abandon = () => {
        const index = this.waiting.indexOf(take);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new A3sError("interrupted", "the client went away"));
      };
      signal?.addEventListener("abort", abandon, { once: true });
      this.waiting.push(take);
    });
  }

  private release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) next(sequence);
    else this.free.push(sequence);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.embedding) await (await this.embedding).dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}

/** Tokens freed when generation fills the context; the prompt must leave them free from the start. */
function contextShift(contextSize: number): number {
  return Math.max(1, Math.floor(contextSize / 10));
}

function repeatPenalty(options: SamplingOptions) {
  if (options.repeat_penalty === 1 && options.presence_penalty === 0 && options.frequency_penalty === 0) {
    return false as const;
  }
  return {
    lastTokens: options.repeat_last_n,
    penalty: options.repeat_penalty,
    presencePenalty: options.presence_penalty || undefined,
    frequencyPenalty: options.frequency_penalty || undefined,
  };
}

/** Ollama's /api/embed returns L2-normalised vectors. */
function normalize(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? [...vector] : vector.map((x) => x / norm);
}
