import { afterAll, describe, expect, test } from "bun:test";
import { localContextWindow } from "./local.ts";

/** /api/show as a3s power answers it, per model name. */
const shows: Record<string, unknown> = {
  "coder:latest": {
    parameters: 'num_ctx                        32768\nstop                           "<|eot_id|>"',
    model_info: { "general.architecture": "qwen2", "qwen2.context_length": 131072 },
  },
  "small:latest": {
    parameters: "num_ctx                        32768",
    model_info: { "general.architecture": "llama", "llama.context_length": 2048 },
  },
  "plain:latest": { model_info: { "general.architecture": "llama", "llama.context_length": 131072 } },
};

const requests: unknown[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const body = (await request.json()) as { model: string };
    requests.push({ method: request.method, path: new URL(request.url).pathname, body });
    const show = shows[body.model];
    return show
      ? Response.json(show)
      : Response.json({ error: `model '${body.model}' not found` }, { status: 404 });
  },
});
afterAll(() => server.stop(true));
const base = `http://127.0.0.1:${server.port}/v1`;

describe("localContextWindow", () => {
  test("the Modelfile's num_ctx, capped at the trained context; power's default without one", async () => {
    expect(await localContextWindow(base, "coder:latest")).toBe(32768);
    expect(await localContextWindow(base, "small:latest")).toBe(2048);
    expect(await localContextWindow(base, "plain:latest")).toBe(4096);
    expect(requests[0]).toEqual({ method: "POST", path: "/api/show", body: { model: "coder:latest" } });
  });

  test("the server's power.contextLength replaces power's default, never a Modelfile's num_ctx", async () => {
    expect(await localContextWindow(base, "plain:latest", { defaultNumCtx: 16384 })).toBe(16384);
    expect(await localContextWindow(base, "coder:latest", { defaultNumCtx: 16384 })).toBe(32768);
  });

  test("no answer when the model is unknown or nothing listens", async () => {
    expect(await localContextWindow(base, "nope")).toBeUndefined();
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = closed.port;
    closed.stop(true);
    expect(await localContextWindow(`http://127.0.0.1:${port}/v1`, "coder:latest")).toBeUndefined();
  });
});
