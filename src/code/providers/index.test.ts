import { afterAll, describe, expect, test } from "bun:test";
import { expectA3sError, expectUsage } from "../../../tests/expect-error.ts";
import { startFakeProvider } from "../../../tests/fixtures/fake-provider.ts";
import { ConfigSchema } from "../../core/config.ts";
import type { ProviderEvent } from "../types.ts";
import { createProvider, listModelRefs, parseModelRef, resolveProvider } from "./index.ts";

const config = (raw: Record<string, unknown> = {}) => ConfigSchema.parse(raw);

describe("parseModelRef", () => {
  test("splits at the first slash: model ids keep theirs", () => {
    expect(parseModelRef("anthropic/claude-sonnet-4-5")).toEqual({
      provider: "anthropic",
      model: "claude-sonnet-4-5",
    });
    expect(parseModelRef("openrouter/anthropic/claude-sonnet-4")).toEqual({
      provider: "openrouter",
      model: "anthropic/claude-sonnet-4",
    });
    expect(parseModelRef("ollama/qwen3:8b")).toEqual({ provider: "ollama", model: "qwen3:8b" });
  });

  test("a bare well-known id gets its vendor; anything else is a usage error", () => {
    expect(parseModelRef("claude-opus-4-1")).toEqual({ provider: "anthropic", model: "claude-opus-4-1" });
    expect(parseModelRef("gpt-4.1")).toEqual({ provider: "openai", model: "gpt-4.1" });
    expect(parseModelRef("o3")).toEqual({ provider: "openai", model: "o3" });
    expect(parseModelRef("deepseek-chat")).toEqual({ provider: "deepseek", model: "deepseek-chat" });
    expectUsage(() => parseModelRef("llama3"), /expected provider\/model/);
    expectUsage(() => parseModelRef("anthropic/"), /expected provider\/model/);
    expectUsage(() => parseModelRef("/gpt-4.1"), /expected provider\/model/);
  });
});

describe("resolveProvider", () => {
  test("presets: base URL, key from its variable", () => {
    const env = { ANTHROPIC_API_KEY: "sk-ant", DEEPSEEK_API_KEY: "sk-ds", OPENROUTER_API_KEY: "sk-or" };
    expect(resolveProvider("anthropic", config(), env)).toMatchObject({
      type: "anthropic",
      baseUrl: "https://api.anthropic.com",
      apiKey: "sk-ant",
      keyEnv: "ANTHROPIC_API_KEY",
    });
    expect(resolveProvider("deepseek", config(), env)).toMatchObject({
      type: "openai",
      baseUrl: "https://api.deepseek.com/v1",
      apiKey: "sk-ds",
    });
    expect(resolveProvider("openrouter", config(), env).baseUrl).toBe("https://openrouter.ai/api/v1");
  });

  test("a missing key is a usage error whose hint says what to export", () => {
    const error = expectUsage(
      () => resolveProvider("anthropic", config(), {}),
      /ANTHROPIC_API_KEY is not set/,
    );
    expect(error.hint).toBe(
      "export ANTHROPIC_API_KEY=… (or ANTHROPIC_AUTH_TOKEN=… for a gateway) or run a3s code to set up",
    );
    expectUsage(() => resolveProvider("openai", config(), { OPENAI_API_KEY: "  " }), /OPENAI_API_KEY/);
  });

  test("local servers need no key: ollama, and local from power.host", () => {
    expect(resolveProvider("ollama", config(), {})).toMatchObject({ baseUrl: "http://127.0.0.1:11434/v1" });
    expect(resolveProvider("ollama", config(), {}).apiKey).toBeUndefined();
    expect(resolveProvider("local", config({ power: { host: "0.0.0.0:8080" } }), {}).baseUrl).toBe(
      "http://127.0.0.1:8080/v1",
    );
  });

  test("config entries add providers and override presets; env base URLs override both", () => {
    const cfg = config({
      code: {
        providers: {
          vllm: { type: "openai", baseUrl: "http://gpu:8000/v1", models: ["qwen3-coder"] },
          anthropic: {
            type: "anthropic",
            baseUrl: "https://gateway.example/anthropic",
            apiKeyEnv: "GW_KEY",
            headers: { "x-tenant": "t1" },
          },
        },
      },
    });
    expect(resolveProvider("vllm", cfg, {})).toMatchObject({
      type: "openai",
      baseUrl: "http://gpu:8000/v1",
      models: ["qwen3-coder"],
    });
    expect(resolveProvider("vllm", cfg, {}).apiKey).toBeUndefined();
    expect(resolveProvider("anthropic", cfg, { GW_KEY: "k" })).toMatchObject({
      baseUrl: "https://gateway.example/anthropic",
      apiKey: "k",
      keyEnv: "GW_KEY",
      headers: { "x-tenant": "t1" },
    });
    expect(
      resolveProvider("anthropic", cfg, { GW_KEY: "k", ANTHROPIC_BASE_URL: "http://127.0.0.1:9" }).baseUrl,
    ).toBe("http://127.0.0.1:9");
  });

  test("an unknown name is a usage error listing the known ones", () => {
    const error = expectUsage(() => resolveProvider("nope", config(), {}), /unknown provider "nope"/);
    expect(error.hint).toContain("anthropic, openai, deepseek, openrouter, ollama, local");
  });
});

describe("listModelRefs", () => {
  test("configured models, plus built-in models of presets whose key is set", () => {
    const cfg = config({
      code: { providers: { vllm: { type: "openai", baseUrl: "http://gpu:8000/v1", models: ["qwen3"] } } },
    });
    const refs = listModelRefs(cfg, { ANTHROPIC_API_KEY: "k" });
    expect(refs).toContain("vllm/qwen3");
    expect(refs).toContain("anthropic/claude-sonnet-4-5");
    expect(refs.some((r) => r.startsWith("openai/"))).toBe(false);
  });
});

describe("createProvider", () => {
  const servers: { stop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  test("builds a working provider of the configured type", async () => {
    const server = await startFakeProvider({ apiKey: "sk-gw" });
    servers.push(server);
    const cfg = config({
      code: {
        providers: {
          gw: {
            type: "anthropic",
            baseUrl: `${server.url}/v1/`,
            apiKeyEnv: "GW_KEY",
            headers: { "x-tenant": "t1" },
          },
        },
      },
    });
    server.reply().text("hi from gw");
    const provider = createProvider("gw", cfg, { GW_KEY: "sk-gw" });
    expect(provider.name).toBe("gw");
    const events: ProviderEvent[] = [];
    for await (const e of provider.stream({
      model: "m",
      system: "",
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      tools: [],
    })) {
      events.push(e);
    }
    expect(events.map((e) => (e.type === "text_delta" ? e.text : "")).join("")).toBe("hi from gw");
    expect(server.requests[0]!.headers["x-tenant"]).toBe("t1");
    expect(server.requests[0]!.path).toBe("/v1/messages");
  });

  test("ANTHROPIC_AUTH_TOKEN alone is sent as a bearer token to the ANTHROPIC_BASE_URL gateway", async () => {
    const server = await startFakeProvider();
    servers.push(server);
    server.reply().text("hi through the gateway");
    const env = { ANTHROPIC_AUTH_TOKEN: "gw-token", ANTHROPIC_BASE_URL: server.url };
    expect(resolveProvider("anthropic", config(), env)).toMatchObject({ authToken: "gw-token" });
    expect(resolveProvider("anthropic", config(), env).apiKey).toBeUndefined();
    const provider = createProvider("anthropic", config(), env);
    let text = "";
    for await (const e of provider.stream({
      model: "claude-sonnet-4-5",
      system: "",
      messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      tools: [],
    })) {
      if (e.type === "text_delta") text += e.text;
    }
    expect(text).toBe("hi through the gateway");
    expect(server.requests[0]!.headers.authorization).toBe("Bearer gw-token");
    expect(server.requests[0]!.headers["x-api-key"]).toBeUndefined();
  });

  test("throws before any request when the key is missing", () => {
    expect(
      expectA3sError(() => createProvider("anthropic", config(), {}), "usage", /ANTHROPIC_API_KEY/).hint,
    ).toBe("export ANTHROPIC_API_KEY=… (or ANTHROPIC_AUTH_TOKEN=… for a gateway) or run a3s code to set up");
    expectA3sError(() => createProvider("openrouter", config(), {}), "usage", /OPENROUTER_API_KEY/);
  });
});
