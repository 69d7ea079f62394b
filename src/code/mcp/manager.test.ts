import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startHttpFixture } from "../../../tests/fixtures/mcp-server.ts";
import { A3sError } from "../../core/errors.ts";
import type { Tool, ToolContext } from "../types.ts";
import { McpManager } from "./manager.ts";

const FIXTURE = resolve(import.meta.dir, "../../../tests/fixtures/mcp-server.ts");
const BUN = process.execPath;

function stdio(...args: string[]) {
  return { command: BUN, args: [FIXTURE, ...args], env: {} };
}

function context(signal: AbortSignal = new AbortController().signal): ToolContext {
  return { signal } as ToolContext;
}

function tool(manager: McpManager, name: string): Tool {
  const found = manager.tools().find((t) => t.name === name);
  if (found === undefined) throw new Error(`no tool ${name} in ${manager.tools().map((t) => t.name)}`);
  return found;
}

/** Gone, or a zombie nobody reaps (this container's PID 1 may not): either way not running. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await Bun.sleep(25);
  }
  throw new Error(`gave up waiting for ${what}`);
}

const root = mkdtempSync(join(tmpdir(), "a3s-mcp-"));
const logsDir = join(root, "logs");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("McpManager with stdio and HTTP servers", () => {
  const http = startHttpFixture();
  let manager: McpManager;

  beforeAll(async () => {
    manager = await McpManager.start({
      servers: {
        local: { ...stdio("--stderr", "fixture says hello"), env: { FROM_CONFIG: "configured" } },
        web: { type: "http", url: http.url, headers: { "X-Api-Key": "secret-1" } },
        broken: { command: join(root, "no-such-command"), args: [], env: {} },
      },
      logsDir,
      cwd: root,
      env: { ...process.env, FROM_PARENT: "inherited" },
    });
  });

  afterAll(async () => {
    await manager.close();
    await http.close();
  });

  test("reports each server: connected ones with tool counts, the broken one with its error", () => {
    const byName = Object.fromEntries(manager.status().map((s) => [s.name, s]));
    expect(byName.local).toMatchObject({ transport: "stdio", state: "connected", tools: 11 });
    expect(byName.local?.server).toEqual({ name: "a3s-fixture", version: "1.0.0" });
    expect(byName.web).toMatchObject({ transport: "http", state: "connected", tools: 11 });
    expect(byName.broken).toMatchObject({ transport: "stdio", state: "failed", tools: 0 });
    expect(byName.broken?.error).toContain("command not found");
    expect(byName.broken?.error).toContain(join(logsDir, "mcp-broken.log"));
  });

  test("names tools mcp__<server>__<tool> with the server's schema and annotations", () => {
    const names = manager.tools().map((t) => t.name);
    expect(names).toContain("mcp__local__add");
    expect(names).toContain("mcp__web__add");
    expect(names).toContain("mcp__local__weird_name");
    expect(names.some((name) => name.includes("broken"))).toBe(false);
    const add = tool(manager, "mcp__web__add");
    expect(add.ruleName).toBe("mcp__web__add");
    expect(add.description).toBe("Adds two numbers");
    expect(add.inputSchema).toMatchObject({
      type: "object",
      properties: { a: { type: "number", description: "first addend" }, b: { type: "number" } },
      required: ["a", "b"],
    });
    expect(add.readOnly).toBe(false);
    expect(tool(manager, "mcp__local__peek").readOnly).toBe(true);
    expect(add.ruleSubject({ a: 1 }, { cwd: root })).toBeUndefined();
    // The server validates; our side lets any object through.
    expect(add.input.safeParse({ anything: [1, 2] }).success).toBe(true);
  });

  test("calls tools over both transports", async () => {
    expect(await tool(manager, "mcp__local__add").run({ a: 2, b: 40 }, context())).toMatchObject({
      content: "42",
    });
    const echoed = await tool(manager, "mcp__web__echo").run({ text: "over http" }, context());
    expect(echoed.content).toBe("over http");
    expect(echoed.isError).toBeUndefined();
    expect(http.headers.some((headers) => headers.get("x-api-key") === "secret-1")).toBe(true);
  });

  test("describes images, audio and resources instead of inlining them", async () => {
    const result = await tool(manager, "mcp__local__media").run({}, context());
    expect(result.content.split("\n")).toEqual([
      "here is everything",
      "[image: image/png, 68 bytes]",
      "[audio: audio/wav, 3 bytes]",
      "[resource: file:///notes.txt]",
      "note body",
      "[resource: file:///blob.bin, application/octet-stream, 4 bytes]",
      "[resource link: linked.md file:///linked.md — a linked file]",
    ]);
  });

  test("a stdio server gets our environment merged with its configured env", async () => {
    const env = tool(manager, "mcp__local__env");
    expect((await env.run({ name: "FROM_CONFIG" }, context())).content).toBe("configured");
    expect((await env.run({ name: "FROM_PARENT" }, context())).content).toBe("inherited");
  });

  test("isError results and rejected arguments come back as errors", async () => {
    const failed = await tool(manager, "mcp__web__fail").run({}, context());
    expect(failed).toMatchObject({ content: "it failed on purpose", isError: true });
    const invalid = await tool(manager, "mcp__local__add").run({ a: "two" }, context());
    expect(invalid.isError).toBe(true);
    expect(invalid.content).toContain("Invalid arguments for tool add");
  });

  for (const server of ["local", "web"]) {
    test(`aborting a call cancels it on the ${server} server`, async () => {
      const controller = new AbortController();
      const call = tool(manager, `mcp__${server}__slow`).run({ ms: 30_000 }, context(controller.signal));
      setTimeout(() => controller.abort(), 100);
      const error = await call.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(A3sError);
      expect((error as A3sError).code).toBe("interrupted");
      // The server saw notifications/cancelled and stopped its work.
      const stats = tool(manager, `mcp__${server}__stats`);
      await until(
        async () => JSON.parse((await stats.run({}, context())).content).cancelled === 1,
        "cancelled",
      );
    });
  }

  test("stderr of stdio servers goes to their log file", () => {
    const log = readFileSync(join(logsDir, "mcp-local.log"), "utf8");
    expect(log).toContain("fixture says hello");
    expect(log).toContain(`starting ${BUN} ${FIXTURE}`);
  });

  test("a tools/list_changed notification refreshes the tool list", async () => {
    let changes = 0;
    const off = manager.onChange(() => changes++);
    const grown = await tool(manager, "mcp__local__grow").run({}, context());
    expect(grown.content).toBe("grown_1");
    await until(() => manager.tools().some((t) => t.name === "mcp__local__grown_1"), "the new tool");
    expect(changes).toBeGreaterThan(0);
    expect((await tool(manager, "mcp__local__grown_1").run({}, context())).content).toBe("grown_1");
    off();
  });
});

describe("McpManager lifecycle", () => {
  test("a server that never answers initialize fails at the connect timeout; the others still work", async () => {
    const marker = `stuck-${process.pid}-${Date.now()}`;
    const manager = await McpManager.start({
      servers: { stuck: stdio("--hang", "--stderr", marker), fine: stdio() },
      logsDir,
      cwd: root,
      connectTimeoutMs: 1500,
    });
    try {
      const [stuck, fine] = manager.status();
      expect(stuck).toMatchObject({ name: "stuck", state: "failed", tools: 0 });
      expect(stuck?.error).toContain("timed out after 1.5 s");
      expect(stuck?.pid).toBeUndefined();
      // Given up on and killed, although it ignores the end of its stdin.
      expect(Bun.spawnSync(["pgrep", "-f", marker]).stdout.toString()).toBe("");
      expect(fine).toMatchObject({ name: "fine", state: "connected" });
      expect((await tool(manager, "mcp__fine__echo").run({ text: "ok" }, context())).content).toBe("ok");
    } finally {
      await manager.close();
    }
  });

  test("close() kills the server and everything it started", async () => {
    const manager = await McpManager.start({ servers: { tree: stdio("--grandchild") }, logsDir, cwd: root });
    const pids = JSON.parse((await tool(manager, "mcp__tree__pids").run({}, context())).content);
    expect(manager.status()[0]?.pid).toBe(pids.pid);
    expect(running(pids.pid)).toBe(true);
    expect(running(pids.grandchild)).toBe(true);
    await manager.close();
    expect(running(pids.pid)).toBe(false);
    await until(() => !running(pids.grandchild), "the grandchild to die");
    expect(manager.status()[0]?.state).toBe("closed");
  });

  test("a server that dies is reported, its tools answer with an error, and reconnect() restores it", async () => {
    const manager = await McpManager.start({ servers: { fragile: stdio() }, logsDir, cwd: root });
    try {
      const echo = tool(manager, "mcp__fragile__echo");
      const pid = manager.status()[0]?.pid as number;
      process.kill(pid, "SIGKILL");
      await until(() => manager.status()[0]?.state === "failed", "the failure to be noticed");
      expect(manager.status()[0]?.error).toContain("disconnected (signal SIGKILL)");
      expect(manager.tools()).toEqual([]);
      const result = await echo.run({ text: "anyone?" }, context());
      expect(result.isError).toBe(true);
      expect(result.content).toContain("MCP server 'fragile' is not connected");
      const status = await manager.reconnect("fragile");
      expect(status.state).toBe("connected");
      // A Tool taken before the reconnect reaches the new connection.
      expect((await echo.run({ text: "back" }, context())).content).toBe("back");
    } finally {
      await manager.close();
    }
  });

  test("close() while servers are still connecting stops them", async () => {
    const marker = `early-${process.pid}-${Date.now()}`;
    const manager = new McpManager({ servers: { early: stdio("--stderr", marker) }, logsDir, cwd: root });
    const connecting = manager.connect();
    expect(manager.status()[0]?.state).toBe("connecting");
    await manager.close();
    await connecting;
    expect(manager.status()[0]?.state).toBe("closed");
    expect(manager.tools()).toEqual([]);
    expect(Bun.spawnSync(["pgrep", "-f", marker]).stdout.toString()).toBe("");
  });

  test("follows tools/list pagination", async () => {
    const manager = await McpManager.start({ servers: { paged: stdio("--many", "5") }, logsDir, cwd: root });
    try {
      expect(manager.tools().map((t) => t.name)).toEqual([0, 1, 2, 3, 4].map((i) => `mcp__paged__tool_${i}`));
      const last = tool(manager, "mcp__paged__tool_4");
      expect(last.inputSchema).toEqual({
        type: "object",
        properties: { n: { type: "integer" } },
        required: ["n"],
      });
      expect((await last.run({ n: 7 }, context())).content).toBe('tool_4({"n":7})');
    } finally {
      await manager.close();
    }
  });

  test("a call past the tool timeout returns an error and the server stays usable", async () => {
    const manager = await McpManager.start({
      servers: { s: stdio() },
      logsDir,
      cwd: root,
      toolTimeoutMs: 200,
    });
    try {
      const result = await tool(manager, "mcp__s__slow").run({ ms: 10_000 }, context());
      expect(result).toMatchObject({ isError: true, content: "MCP server 's': timed out after 0.2 s" });
      expect((await tool(manager, "mcp__s__add").run({ a: 1, b: 1 }, context())).content).toBe("2");
    } finally {
      await manager.close();
    }
  });

  test("an HTTP server that is not there, or refuses us, is reported as failed", async () => {
    const http = startHttpFixture();
    const gone = http.url;
    await http.close();
    const guarded = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("no token", { status: 401 }),
    });
    const manager = await McpManager.start({
      servers: {
        gone: { type: "http", url: gone, headers: {} },
        guarded: { type: "http", url: `http://127.0.0.1:${guarded.port}/mcp`, headers: {} },
      },
      logsDir,
      cwd: root,
    });
    try {
      const [down, refused] = manager.status();
      expect(down).toMatchObject({ state: "failed", transport: "http" });
      expect(down?.error).toContain("ECONNREFUSED");
      expect(refused?.error).toBe(
        "the server requires authentication (HTTP 401): no token; configure a token header",
      );
    } finally {
      await manager.close();
      await guarded.stop(true);
    }
  });

  test("an unset variable referenced by the config fails that server with a clear error", async () => {
    const manager = await McpManager.start({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
      servers: { needs: { ...stdio(), env: { TOKEN: "${A3S_TEST_UNSET_TOKEN}" } } },
      logsDir,
      cwd: root,
      env: {},
    });
    expect(manager.status()[0]?.error).toBe("environment variable A3S_TEST_UNSET_TOKEN is not set");
    expect(existsSync(join(logsDir, "mcp-needs.log"))).toBe(false);
    await manager.close();
  });
});
