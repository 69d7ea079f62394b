/**
 * The local path end to end: `a3s code run` talks to `a3s power serve` (the `local` provider, no
 * key) which runs a generated GGUF model pulled from a real registry on loopback. The model's text
 * is gibberish, so the assertions are on the path: the agent's events, the tokens power counted for
 * the same request, the model power loaded, the saved session, and clear errors when the model
 * cannot take the agent's prompt.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentEvent } from "../../src/code/types.ts";
import { agentEvents } from "../fixtures/fake-provider.ts";
import { writeGguf } from "../fixtures/gguf.ts";
import { pushModel } from "../fixtures/models.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, BINARY, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

/** Ollama's llama3 template with tool definitions (a tool-capable model, as a3s code needs). */
const TOOLS_TEMPLATE =
  "{{- if .Tools }}<|start_header_id|>system<|end_header_id|>\n\nYou can call these tools:\n" +
  "{{ range .Tools }}{{ json . }}\n{{ end }}<|eot_id|>{{ end }}" +
  "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n" +
  '{{ if .ToolCalls }}{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments": {{ json .Function.Arguments }}}{{ end }}' +
  "{{ else }}{{ .Content }}{{ end }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n";

/** Trained for 16k tokens: the agent's system prompt and 13 tool schemas need more than power's default 4096. */
const CONTEXT = 16384;
const MAX_TOKENS = 32;

let registry: Registry;
let home: string;
let server: ReturnType<typeof Bun.spawn>;
let url: string;
let project: string;

function writeConfig(host: string): void {
  writeFileSync(
    join(home, "config.json"),
    JSON.stringify({
      power: { threads: 1, registry: registry.host, host },
      code: { maxTokens: MAX_TOKENS },
    }),
  );
}

async function startServer(env: Record<string, string> = {}): Promise<void> {
  server = Bun.spawn([BINARY, "power", "serve", "--port", "0", "--json"], {
    env: { ...process.env, ...env, A3S_HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  url = (JSON.parse(new TextDecoder().decode(value).split("\n")[0] ?? "") as { url: string }).url;
}

beforeAll(async () => {
  [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
  home = tempHome();
  mkdirSync(home, { recursive: true });
  writeConfig("127.0.0.1:0");
  const gguf = writeGguf({
    layers: 2,
    width: 64,
    heads: 4,
    headsKv: 2,
    ffn: 256,
    contextLength: CONTEXT,
    vocab: "bpe",
    seed: 1,
  });
  await pushModel(registry, "library/tiny", "latest", {
    gguf,
    template: TOOLS_TEMPLATE,
    params: { stop: ["<|eot_id|>"] },
  });
  expectExit(await a3s(["power", "pull", "tiny"], { home }), 0);

  // What a user does for a coding model: give it the context the agent needs, and greedy decoding.
  const modelfiles = mkdtempSync(join(tmpdir(), "a3s-modelfile-"));
  const create = async (name: string, text: string) => {
    writeFileSync(join(modelfiles, name), text);
    expectExit(await a3s(["power", "create", name, "-f", join(modelfiles, name)], { home }), 0);
  };
  await create("coder", `FROM tiny\nPARAMETER num_ctx ${CONTEXT}\nPARAMETER temperature 0\n`);
  // A template with no place for tools: the model cannot be offered any.
  await create("plain", `FROM tiny\nTEMPLATE """{{ .Prompt }}"""\nPARAMETER num_ctx ${CONTEXT}\n`);

  await startServer();
  writeConfig(url.replace("http://", ""));
  project = mkdtempSync(join(tmpdir(), "a3s-code-power-"));
  writeFileSync(join(project, "README.md"), "A project.\n");
});

afterAll(async () => {
  server?.kill("SIGTERM");
  await server?.exited;
  await registry?.stop();
});

const events = agentEvents;

function only<T extends AgentEvent["type"]>(stream: AgentEvent[], type: T) {
  return stream.filter((event) => event.type === type) as Extract<AgentEvent, { type: T }>[];
}

interface UsageRow {
  model: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
}

async function powerUsage(model: string): Promise<UsageRow | undefined> {
  const summary = expectExit(await a3s(["power", "usage", "--json"], { home }), 0).json<{
    models: UsageRow[];
  }>();
  return summary.models.find((row) => row.model === model);
}

const codeRun = (model: string, env: Record<string, string> = {}) =>
  a3s(["code", "run", "--json", "--model", model, "Say hello in one word."], { home, cwd: project, env });

describe("a3s code on a3s power serve", () => {
  test("a prompt runs on the local model: streamed text, usage at no cost, the same tokens in power", async () => {
    const result = await codeRun("local/coder");
    const stream = events(result.stdout);
    const final = stream.at(-1) as Extract<AgentEvent, { type: "final" }>;
    expect(final.type).toBe("final");
    // The model may end its answer or use all of code.maxTokens: both are a complete round trip.
    expect(["end_turn", "max_tokens"]).toContain(final.stopReason);
    expectExit(result, final.stopReason === "end_turn" ? 0 : 8);

    const session = stream[0] as Extract<AgentEvent, { type: "session" }>;
    expect(session).toMatchObject({ type: "session", model: "local/coder", cwd: project, resumed: false });
    expect(only(stream, "retry")).toEqual([]);
    expect(only(stream, "error")).toEqual([]);
    const deltas = only(stream, "text_delta");
    expect(deltas.length).toBeGreaterThan(0);
    expect(final.text).toBe(deltas.map((delta) => delta.text).join(""));

    const [usage] = only(stream, "usage");
    // The system prompt and every tool's schema went through power's template: thousands of tokens.
    expect(usage?.turn.inputTokens).toBeGreaterThan(4096);
    expect(usage?.turn.outputTokens).toBeGreaterThan(0);
    expect(usage?.turn.outputTokens).toBeLessThanOrEqual(MAX_TOKENS);
    expect(usage?.turn.costUsd).toBe(0);
    // a3s code asked power for the context the model runs with instead of guessing.
    expect(usage?.contextWindow).toBe(CONTEXT);
    expect(final.total.costUsd).toBe(0);

    // Power served exactly that request, with the context the Modelfile asked for.
    const row = await powerUsage("coder:latest");
    expect(row).toMatchObject({
      requests: 1,
      errors: 0,
      prompt_tokens: usage?.turn.inputTokens,
      completion_tokens: usage?.turn.outputTokens,
    });
    const ps = (await (await fetch(`${url}/api/ps`)).json()) as {
      models: Array<{ name: string; context_length: number }>;
    };
    expect(ps.models).toContainEqual(
      expect.objectContaining({ name: "coder:latest", context_length: CONTEXT }),
    );

    const sessions = expectExit(
      await a3s(["code", "sessions", "ls", "--json"], { home, cwd: project }),
      0,
    ).json<Array<{ id: string; model: string; messages: number }>>();
    expect(sessions).toContainEqual(
      expect.objectContaining({ id: session.sessionId, model: "local/coder", messages: 2 }),
    );
  });

  test("a prompt larger than the loaded context is refused with the fix, not truncated or retried", async () => {
    // tiny has no num_ctx: power loads it with the default 4096 tokens, too few for the agent.
    const result = expectExit(await codeRun("local/tiny"), 2);
    const stream = events(result.stdout);
    expect(only(stream, "retry")).toEqual([]);
    expect(only(stream, "text_delta")).toEqual([]);
    const [error] = only(stream, "error");
    expect(error?.code).toBe("usage");
    expect(error?.message).toMatch(
      /the prompt is \d+ tokens, more than the \d+ that fit in tiny:latest's context of 4096 tokens/,
    );
    expect(error?.message).toContain(`raise num_ctx (the model takes up to ${CONTEXT})`);
    expect(stream.at(-1)).toMatchObject({ type: "final", stopReason: "error" });
    expect(await powerUsage("tiny:latest")).toMatchObject({ requests: 1, errors: 1, completion_tokens: 0 });
  });

  test("a model whose template cannot show tools is refused before anything streams", async () => {
    const result = expectExit(await codeRun("local/plain"), 2);
    const stream = events(result.stdout);
    expect(only(stream, "retry")).toEqual([]);
    const [error] = only(stream, "error");
    expect(error?.code).toBe("usage");
    expect(error?.message).toContain("local rejected the request (HTTP 400): plain does not support tools");
  });

  test("OLLAMA_CONTEXT_LENGTH (power.contextLength) is the context of models that set none", async () => {
    server.kill("SIGTERM");
    await server.exited;
    const env = { OLLAMA_CONTEXT_LENGTH: String(CONTEXT) };
    await startServer(env);
    writeConfig(url.replace("http://", ""));
    const result = await codeRun("local/tiny", env);
    const stream = events(result.stdout);
    const final = stream.at(-1) as Extract<AgentEvent, { type: "final" }>;
    expect(["end_turn", "max_tokens"]).toContain(final.stopReason);
    expect(only(stream, "usage")[0]?.contextWindow).toBe(CONTEXT);
  });
});
