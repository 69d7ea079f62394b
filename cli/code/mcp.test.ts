import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type HttpFixture, startHttpFixture } from "../../tests/fixtures/mcp-server.ts";

const ROOT = resolve(import.meta.dir, "../..");
const FIXTURE = join(ROOT, "tests/fixtures/mcp-server.ts");

// Until cli/code/index.ts mounts mcpCommand(), run it inside the real program in place of the placeholder.
const HARNESS = `
import { buildProgram } from "${ROOT}/cli/main.ts";
import { reportError } from "${ROOT}/cli/errors.ts";
import { mcpCommand } from "${ROOT}/cli/code/mcp.ts";
const program = buildProgram();
const code = program.commands.find((c) => c.name() === "code");
const list = code.commands;
list.splice(list.findIndex((c) => c.name() === "mcp"), 1);
const mcp = mcpCommand();
const walk = (c) => { c.exitOverride(); c.configureOutput({ outputError: () => {} }); c.commands.forEach(walk); };
walk(mcp);
code.addCommand(mcp);
try {
  await program.parseAsync(process.argv);
  process.exit(0);
} catch (err) {
  process.exit(reportError(err, { json: process.argv.includes("--json"), stdout: process.stdout, stderr: process.stderr }));
}
`;

let root: string;
let harness: string;
let home: string;
let project: string;
let http: HttpFixture;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "a3s-mcp-cli-"));
  harness = join(root, "harness.ts");
  writeFileSync(harness, HARNESS);
  home = join(root, "home");
  project = join(root, "project");
  mkdirSync(project);
  http = startHttpFixture();
});

afterAll(async () => {
  await http.close();
  rmSync(root, { recursive: true, force: true });
});

async function a3s(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([process.execPath, harness, ...args], {
    cwd: project,
    env: { ...process.env, A3S_HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

test("add writes user and project scopes; ls connects to each and reports status and tools", async () => {
  const user = await a3s(
    "--json",
    "code",
    "mcp",
    "add",
    "local",
    "-e",
    "MODE=test",
    "--",
    process.execPath,
    FIXTURE,
  );
  expect(user.code).toBe(0);
  expect(JSON.parse(user.stdout)).toMatchObject({
    name: "local",
    scope: "user",
    file: join(home, "config.json"),
  });
  expect(JSON.parse(readFileSync(join(home, "config.json"), "utf8")).code.mcpServers.local).toEqual({
    command: process.execPath,
    args: [FIXTURE],
    env: { MODE: "test" },
  });
  const web = await a3s("code", "mcp", "add", "web", "-s", "project", "-H", "X-Key: k1", http.url);
  expect(web.code).toBe(0);
  expect(web.stderr).toContain(`Added HTTP MCP server web to ${join(project, ".mcp.json")}`);
  expect(await a3s("code", "mcp", "add", "down", "/no/such/server")).toMatchObject({ code: 0 });

  const listed = await a3s("--json", "code", "mcp", "ls");
  expect(listed.code).toBe(0);
  const rows = JSON.parse(listed.stdout);
  expect(rows.map((r: { name: string }) => r.name)).toEqual(["local", "down", "web"]);
  expect(rows[0]).toMatchObject({ scope: "user", transport: "stdio", state: "connected", tools: 11 });
  expect(rows[1]).toMatchObject({ state: "failed", tools: 0 });
  expect(rows[1].error).toContain("command not found: /no/such/server");
  expect(rows[2]).toMatchObject({
    scope: "project",
    transport: "http",
    state: "connected",
    target: http.url,
  });

  const table = await a3s("code", "mcp", "ls");
  expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+SCOPE\s+TRANSPORT\s+STATUS\s+TOOLS\s+COMMAND\/URL$/);
  expect(table.stdout).toMatch(/web\s+project\s+http\s+connected\s+11\s+http:\/\/127\.0\.0\.1/);
  expect(table.stderr).toContain("down: command not found");
});

test("get shows the config and the tools with descriptions", async () => {
  const shown = await a3s("--json", "code", "mcp", "get", "local");
  expect(shown.code).toBe(0);
  const body = JSON.parse(shown.stdout);
  expect(body.config).toEqual({ command: process.execPath, args: [FIXTURE], env: { MODE: "test" } });
  const add = body.tools.find((t: { name: string }) => t.name === "mcp__local__add");
  expect(add).toMatchObject({ tool: "add", description: "Adds two numbers", readOnly: false });
  expect(add.inputSchema.required).toEqual(["a", "b"]);

  const text = await a3s("code", "mcp", "get", "web");
  expect(text.stdout).toContain("header:    X-Key: k1");
  expect(text.stdout).toMatch(/mcp__web__peek\s+yes\s+Reads nothing, changes nothing/);

  const missing = await a3s("code", "mcp", "get", "nope");
  expect(missing.code).toBe(3);
  expect(missing.stderr).toContain("no MCP server named 'nope'");
});

test("add refuses duplicates and mixed-up options; rm removes from the scope that has it", async () => {
  const again = await a3s("--json", "code", "mcp", "add", "local", "other");
  expect(again.code).toBe(4);
  expect(JSON.parse(again.stdout).error.message).toContain("already exists");
  expect((await a3s("code", "mcp", "add", "x", "-H", "A: b", "cmd")).stderr).toContain(
    "-H sets headers of HTTP",
  );
  expect((await a3s("code", "mcp", "add", "x", "http://h/mcp", "extra")).stderr).toContain("no arguments");

  expect(await a3s("code", "mcp", "rm", "web")).toMatchObject({ code: 0 });
  expect(JSON.parse(readFileSync(join(project, ".mcp.json"), "utf8"))).toEqual({ mcpServers: {} });
  const gone = await a3s("code", "mcp", "rm", "web");
  expect(gone.code).toBe(3);
});
