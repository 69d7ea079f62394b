/**
 * `a3s power serve` under the official clients: the `ollama` and `openai` npm packages talk to the
 * compiled binary, which serves models pulled from a real registry on loopback and runs them on
 * llama.cpp (generated GGUF weights: the text is gibberish, the pipeline is real).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { LLAMA3_CHAT_TEMPLATE, writeGguf } from "../fixtures/gguf.ts";
import { pushModel } from "../fixtures/models.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, BINARY, ensureBuilt, tempHome } from "./a3s.ts";

/** Ollama's llama3 template with tool definitions and tool calls (JSON, as llama3.1's). */
const TOOLS_TEMPLATE =
  "{{- if .Tools }}<|start_header_id|>system<|end_header_id|>\n\nYou can call these tools:\n" +
  "{{ range .Tools }}{{ json . }}\n{{ end }}<|eot_id|>{{ end }}" +
  "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n" +
  '{{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ json .Function.Arguments }}}{{ end }}' +
  "{{ else }}{{ .Content }}{{ end }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n";

const TINY = {
  layers: 2,
  width: 64,
  heads: 4,
  headsKv: 2,
  ffn: 256,
  contextLength: 2048,
  vocab: "bpe" as const,
  seed: 1,
  chatTemplate: LLAMA3_CHAT_TEMPLATE,
};

/** Greedy decoding of the seeded weights: repeatable; on the raw prompt "hello" it runs 600 tokens without end-of-text. */
const GREEDY = { temperature: 0, repeat_penalty: 1, seed: 42 };
const LONG = { prompt: "hello", raw: true, options: { ...GREEDY, num_predict: 600 } };

let registry: Registry;
let home: string;
let server: ReturnType<typeof Bun.spawn>;
let url: string;
let ollama: Ollama;
let openai: OpenAI;

async function startServer(): Promise<void> {
  server = Bun.spawn([BINARY, "power", "serve", "--port", "0", "--json"], {
    env: { ...process.env, A3S_HOME: home, A3S_POWER_REGISTRY: registry.host, A3S_LOG_LEVEL: "debug" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  const line = new TextDecoder().decode(value).split("\n")[0] ?? "";
  url = (JSON.parse(line) as { url: string }).url;
}

beforeAll(async () => {
  [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
  home = tempHome();
  mkdirSync(home, { recursive: true });
  // One model at a time (eviction is tested), one thread (2 vCPUs here), two sequences per model.
  writeFileSync(
    join(home, "config.json"),
    JSON.stringify({ power: { threads: 1, maxLoadedModels: 1, parallel: 2 } }),
  );
  const gguf = writeGguf(TINY);
  await pushModel(registry, "library/tiny", "latest", {
    gguf,
    template: TOOLS_TEMPLATE,
    system: "You are a tiny test model.",
    params: { stop: ["<|eot_id|>"] },
    license: "TEST",
  });
  // No template layer: prompts come from the GGUF's own (Jinja) chat template.
  await pushModel(registry, "library/jinja", "latest", { gguf });
  await pushModel(registry, "library/other", "latest", {
    gguf: writeGguf({ ...TINY, vocab: "spm", seed: 2, chatTemplate: undefined }),
  });
  for (const model of ["tiny", "jinja"]) {
    const pulled = await a3s(["power", "pull", model], { home, env: { A3S_POWER_REGISTRY: registry.host } });
    expect(pulled.code).toBe(0);
  }
  await startServer();
  ollama = new Ollama({ host: url });
  openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused" });
});

afterAll(async () => {
  server?.kill("SIGTERM");
  await server?.exited;
  await registry?.stop();
});

/** The error a promise rejects with (openai's APIPromise is a thenable `expect().rejects` misreads). */
function rejection(promise: PromiseLike<unknown>): Promise<unknown> {
  return Promise.resolve(promise).then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("Ollama API with the ollama client", () => {
  test("version, list and show", async () => {
    expect(await fetch(url).then((r) => r.text())).toBe("Ollama is running");
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    const { models } = await ollama.list();
    expect(models.map((m) => m.name)).toEqual(expect.arrayContaining(["jinja:latest", "tiny:latest"]));
    const show = await ollama.show({ model: "tiny" });
    expect(show.template).toBe(TOOLS_TEMPLATE);
    expect(show.system).toBe("You are a tiny test model.");
    expect(show.capabilities).toEqual(expect.arrayContaining(["completion", "tools"]));
    expect((show.model_info as unknown as Record<string, unknown>)["general.architecture"]).toBe("llama");
  });

  test("generate, not streamed: text and Ollama's statistics in nanoseconds", async () => {
    const response = await ollama.generate({ model: "tiny", ...LONG });
    expect(response.done).toBe(true);
    expect(response.done_reason).toBe("length");
    expect(response.eval_count).toBe(600);
    expect(response.response?.length).toBeGreaterThan(0);
    expect(response.prompt_eval_count).toBe(2);
    expect(response.total_duration).toBeGreaterThan(response.eval_duration);
    expect(response.context).toBeUndefined();
    // Same seed and greedy: the same answer again.
    const again = await ollama.generate({ model: "tiny", ...LONG });
    expect(again.response).toBe(response.response);
  });

  test("generate through the template returns the context to continue from", async () => {
    const response = await ollama.generate({ model: "tiny", prompt: "hi", options: { num_predict: 5 } });
    expect(response.prompt_eval_count).toBeGreaterThan(10);
    expect(response.context?.length).toBe(response.prompt_eval_count - 1 + response.eval_count);
    const next = await ollama.generate({
      model: "tiny",
      prompt: "more",
      context: response.context,
      options: { num_predict: 5 },
    });
    expect(next.prompt_eval_count).toBeGreaterThan(response.context!.length);
  });

  test("generate, streamed: chunks then one final message", async () => {
    const chunks: string[] = [];
    let final: { done: boolean; eval_count: number } | undefined;
    for await (const part of await ollama.generate({
      model: "tiny",
      ...LONG,
      stream: true,
      options: { ...GREEDY, num_predict: 20 },
    })) {
      if (part.done) final = part;
      else chunks.push(part.response ?? "");
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(final?.eval_count).toBe(20);
  });

  test("chat, streamed and not, over the Go template and over the GGUF's Jinja template", async () => {
    for (const model of ["tiny", "jinja"]) {
      const messages = [{ role: "user", content: "how are you?" }];
      const whole = await ollama.chat({ model, messages, options: { ...GREEDY, num_predict: 12 } });
      expect(whole.message.role).toBe("assistant");
      expect(whole.eval_count).toBeLessThanOrEqual(12);
      let streamedText = "";
      for await (const part of await ollama.chat({
        model,
        messages,
        stream: true,
        options: { ...GREEDY, num_predict: 12 },
      })) {
        streamedText += part.message.content;
      }
      expect(streamedText).toBe(whole.message.content);
    }
  });

  test("format: a JSON schema constrains the answer", async () => {
    const schema = { type: "object", properties: { n: { type: "integer" } }, required: ["n"] };
    const response = await ollama.chat({
      model: "tiny",
      messages: [{ role: "user", content: "a number" }],
      format: schema,
      options: { num_predict: 200, seed: 1 },
    });
    expect(typeof JSON.parse(response.message.content).n).toBe("number");
  });

  test("embed: normalised vectors, one per input", async () => {
    const { embeddings, prompt_eval_count } = await ollama.embed({
      model: "tiny",
      input: ["one", "two three"],
    });
    expect(embeddings).toHaveLength(2);
    expect(embeddings[0]).toHaveLength(64);
    const norm = Math.sqrt(embeddings[0]!.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 4);
    expect(prompt_eval_count).toBeGreaterThan(2);
    const legacy = await ollama.embeddings({ model: "tiny", prompt: "one" });
    expect(legacy.embedding).toHaveLength(64);
  });

  test("errors in Ollama's shape: unknown model 404, bad options 400", async () => {
    await expect(
      ollama.chat({ model: "nope", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      status_code: 404,
      error: expect.stringContaining("not found"),
    });
    const bad = await fetch(`${url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "tiny", prompt: "x", options: { temperature: "hot" } }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("temperature");
  });

  test("a prompt longer than the context is a 400 naming num_ctx, not silently cut", async () => {
    const long = { model: "jinja", prompt: "hello ".repeat(400), raw: true, options: { num_ctx: 256 } };
    await expect(ollama.generate(long)).rejects.toMatchObject({
      status_code: 400,
      error: expect.stringMatching(/the prompt is \d+ tokens, more than the 231 that fit .* raise num_ctx/),
    });
    const fits = await ollama.generate({
      ...long,
      prompt: "hello",
      options: { num_ctx: 256, num_predict: 2 },
    });
    expect(fits.done).toBe(true);
  });

  test("pull through the server streams Ollama's progress; copy and delete", async () => {
    const statuses: string[] = [];
    for await (const part of await ollama.pull({ model: "other", stream: true })) statuses.push(part.status);
    expect(statuses[0]).toBe("pulling manifest");
    expect(statuses).toContain("verifying sha256 digest");
    expect(statuses.at(-1)).toBe("success");
    await ollama.copy({ source: "other", destination: "other-copy" });
    expect((await ollama.list()).models.map((m) => m.name)).toContain("other-copy:latest");
    await ollama.delete({ model: "other-copy" });
    expect((await ollama.list()).models.map((m) => m.name)).not.toContain("other-copy:latest");
  });

  test("create: from a GGUF file with the CLI, from a model over the API", async () => {
    const dir = join(home, "..", "modelfile");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "weights.gguf"), writeGguf({ ...TINY, seed: 5 }));
    writeFileSync(
      join(dir, "Modelfile"),
      'FROM ./weights.gguf\nTEMPLATE """{{ .Prompt }}"""\nSYSTEM terse\nPARAMETER temperature 0.5\nPARAMETER stop "<|eot_id|>"\n',
    );
    const created = await a3s(["power", "create", "mine", "-f", join(dir, "Modelfile")], {
      home,
      env: { A3S_POWER_REGISTRY: registry.host },
    });
    expect(created.code).toBe(0);
    expect(created.stderr).toContain("success");
    const mine = await ollama.show({ model: "mine" });
    expect(mine.template).toBe("{{ .Prompt }}");
    expect(mine.system).toBe("terse");
    expect(mine.parameters).toMatch(/stop\s+"<\|eot_id\|>"\ntemperature\s+0\.5/);
    expect((await ollama.generate({ model: "mine", prompt: "x", options: { num_predict: 3 } })).done).toBe(
      true,
    );

    const statuses: string[] = [];
    for await (const part of await ollama.create({
      model: "derived",
      from: "tiny",
      system: "Be brief.",
      stream: true,
    })) {
      statuses.push(part.status);
    }
    expect(statuses.at(-1)).toBe("success");
    const derived = await ollama.show({ model: "derived" });
    expect(derived.system).toBe("Be brief.");
    expect(derived.template).toBe(TOOLS_TEMPLATE);
    expect(derived.details.parent_model).toBe("tiny:latest");
    const bad = await fetch(`${url}/api/create`, {
      method: "POST",
      body: JSON.stringify({ model: "x", from: "nope" }),
    });
    expect(bad.status).toBe(404);
  });

  test("maxLoadedModels=1: a second model evicts the first; keep_alive 0 unloads", async () => {
    await ollama.generate({ model: "tiny", prompt: "a", options: { num_predict: 1 } });
    expect((await ollama.ps()).models.map((m) => m.name)).toEqual(["tiny:latest"]);
    await ollama.generate({ model: "other", prompt: "b", options: { num_predict: 1 } });
    expect((await ollama.ps()).models.map((m) => m.name)).toEqual(["other:latest"]);
    expect(await metric("a3s_power_model_unloads_total", 'reason="evicted"')).toBeGreaterThanOrEqual(1);
    await ollama.generate({ model: "other", prompt: "c", keep_alive: 0, options: { num_predict: 1 } });
    expect((await ollama.ps()).models).toEqual([]);
  });

  test("a client that goes away mid-stream stops the generation", async () => {
    const controller = new AbortController();
    const response = await fetch(`${url}/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "tiny", ...LONG }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    // The server records the request once generation stops: with status 499 and far fewer tokens.
    const usage = async () =>
      (await a3s(["power", "usage", "--json"], { home })).json<{
        models: Array<{ model: string; errors: number; completion_tokens: number }>;
      }>();
    let tiny: { errors: number } | undefined;
    for (let i = 0; i < 50 && !tiny?.errors; i++) {
      await Bun.sleep(100);
      tiny = (await usage()).models.find((m) => m.model === "tiny:latest");
    }
    expect(tiny?.errors).toBe(1);
  });
});

describe("OpenAI API with the openai client", () => {
  test("models", async () => {
    const ids = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(["tiny:latest", "jinja:latest"]));
    expect((await openai.models.retrieve("tiny:latest")).id).toBe("tiny:latest");
    expect(await rejection(openai.models.retrieve("nope"))).toMatchObject({ status: 404 });
  });

  test("chat completions, streamed (with usage) and not", async () => {
    const request = {
      model: "tiny",
      messages: [{ role: "user" as const, content: "hi" }],
      max_tokens: 10,
      temperature: 0,
      seed: 3,
    };
    const whole = await openai.chat.completions.create(request);
    expect(whole.object).toBe("chat.completion");
    expect(whole.choices[0]?.finish_reason).toBe("length");
    expect(whole.usage?.completion_tokens).toBe(10);
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    const stream = await openai.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]?.message.content ?? "");
    expect(usage?.total_tokens).toBe(whole.usage?.total_tokens);
  });

  test("tools: a tool call the model makes comes back as tool_calls", async () => {
    // The grammar makes the gibberish model answer with a call to the tool, as a capable model would.
    const schema = {
      type: "object",
      properties: {
        name: { type: "string", enum: ["get_weather"] },
        arguments: {
          type: "object",
          properties: { city: { type: "string", enum: ["Paris"] } },
          required: ["city"],
        },
      },
      required: ["name", "arguments"],
    };
    const completion = await openai.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "weather in Paris?" }],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
      ],
      response_format: { type: "json_schema", json_schema: { name: "call", schema } },
      max_tokens: 100,
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls?.[0];
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
  });

  test("completions and embeddings (base64, as the client asks by default)", async () => {
    const completion = await openai.completions.create({
      model: "tiny",
      prompt: "once upon",
      max_tokens: 5,
      temperature: 0,
    });
    expect(completion.object).toBe("text_completion");
    expect(completion.usage?.completion_tokens).toBe(5);
    const embeddings = await openai.embeddings.create({ model: "tiny", input: ["a", "b"] });
    expect(embeddings.data).toHaveLength(2);
    expect(embeddings.data[0]?.embedding).toHaveLength(64);
  });

  test("errors in OpenAI's shape", async () => {
    expect(
      await rejection(
        openai.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }),
      ),
    ).toMatchObject({ status: 404, error: { type: "not_found_error" } });
  });
});

describe("metrics and usage", () => {
  test("/metrics is Prometheus text with per-model tokens and time to first token", async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain("# TYPE a3s_power_requests_total counter");
    expect(text).toContain("# TYPE a3s_power_time_to_first_token_seconds histogram");
    expect(await metric("a3s_power_tokens_total", 'model="tiny:latest"')).toBeGreaterThan(0);
    expect(await metric("a3s_power_model_load_seconds_count", 'model="tiny:latest"')).toBeGreaterThan(0);
  });

  test("power usage sums what was served, with costs from power.prices", async () => {
    const summary = (await a3s(["power", "usage", "--json"], { home })).json<{
      models: Array<{ model: string; requests: number; completion_tokens: number }>;
      totals: { requests: number };
    }>();
    const tiny = summary.models.find((m) => m.model === "tiny:latest");
    expect(tiny?.requests).toBeGreaterThan(5);
    expect(tiny?.completion_tokens).toBeGreaterThan(1200);
    const table = await a3s(["power", "usage"], { home });
    expect(table.stdout).toMatch(/^MODEL\s+REQUESTS\s+PROMPT TOKENS/);
  });

  test("ps and stop through the CLI talk to the server", async () => {
    const env = { A3S_POWER_HOST: url.replace("http://", "") };
    await ollama.generate({ model: "tiny", prompt: "x", options: { num_predict: 1 } });
    const ps = await a3s(["power", "ps"], { home, env });
    expect(ps.stdout).toMatch(/^NAME\s+ID\s+SIZE\s+PROCESSOR\s+CONTEXT\s+UNTIL\ntiny:latest/);
    expect((await a3s(["power", "stop", "tiny"], { home, env })).code).toBe(0);
    expect((await ollama.ps()).models).toEqual([]);
  });
});
