import { afterAll, beforeEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sError } from "../../../tests/expect-error.ts";
import { loadConfig } from "../../core/config.ts";
import {
  addMcpServer,
  configuredMcpServers,
  expandServerConfig,
  fileMcpServers,
  type McpServerConfig,
  removeMcpServer,
  serverMap,
} from "./config.ts";

const temp = mkdtempSync(join(tmpdir(), "a3s-mcp-config-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

let configPath: string;
let cwd: string;
let where: { configPath: string; projectRoot: string };

beforeEach(() => {
  const root = mkdtempSync(join(temp, "case-"));
  configPath = join(root, "home", "config.json");
  cwd = join(root, "project");
  where = { configPath, projectRoot: cwd };
});

/** What a session in the project would start. */
const configured = () =>
  configuredMcpServers({
    configPath,
    userServers: loadConfig(configPath).config.code.mcpServers,
    projectRoot: cwd,
  });

test("user scope writes code.mcpServers in config.json, keeping what else is there", () => {
  addMcpServer({ ...where, scope: "user" }, "files", { command: "npx", args: ["-y", "server-files"] });
  expect(loadConfig(configPath).config.code.mcpServers).toEqual({
    files: { command: "npx", args: ["-y", "server-files"], env: {} },
  });
  writeFileSync(configPath, `// mine\n${readFileSync(configPath, "utf8")}`);
  addMcpServer({ ...where, scope: "user" }, "web", { type: "http", url: "https://mcp.example.com/mcp" });
  expect(readFileSync(configPath, "utf8")).toStartWith("// mine\n");
  expect(Object.keys(loadConfig(configPath).config.code.mcpServers)).toEqual(["files", "web"]);
});

test("project scope writes .mcp.json in Claude Code's shape", () => {
  const file = addMcpServer({ ...where, scope: "project" }, "db", {
    type: "stdio",
    command: "db-mcp",
    env: { DB_URL: "postgres://localhost" },
  });
  expect(file).toBe(join(cwd, ".mcp.json"));
  expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({
    mcpServers: { db: { type: "stdio", command: "db-mcp", env: { DB_URL: "postgres://localhost" } } },
  });
  expect(fileMcpServers(file, "project")[0]?.config).toEqual({
    type: "stdio",
    command: "db-mcp",
    args: [],
    env: { DB_URL: "postgres://localhost" },
  });
});

test("adding a name twice in one scope is a conflict; bad names and entries are usage errors", () => {
  addMcpServer({ ...where, scope: "user" }, "one", { command: "a" });
  expectA3sError(
    () => addMcpServer({ ...where, scope: "user" }, "one", { command: "b" }),
    "conflict",
    "already exists",
  );
  expectA3sError(
    () => addMcpServer({ ...where, scope: "user" }, "has space", { command: "b" }),
    "usage",
    "invalid MCP server name",
  );
  expectA3sError(
    () => addMcpServer({ ...where, scope: "project" }, "u", { type: "http", url: "not a url" }),
    "usage",
    "invalid MCP server 'u'",
  );
});

test("later files replace earlier entries of a name; invalid entries are listed with their error", () => {
  addMcpServer({ ...where, scope: "user" }, "shared", { command: "user-version" });
  addMcpServer({ ...where, scope: "user" }, "mine", { command: "only-mine" });
  addMcpServer({ ...where, scope: "project" }, "shared", { command: "project-version" });
  const file = join(cwd, ".mcp.json");
  const project = JSON.parse(readFileSync(file, "utf8"));
  project.mcpServers.legacy = { type: "sse", url: "http://localhost:1/sse" };
  writeFileSync(file, JSON.stringify(project));
  mkdirSync(join(cwd, ".a3s"));
  const local = join(cwd, ".a3s", "settings.local.json");
  writeFileSync(local, `// mine only\n{ "mcpServers": { "mine": { "command": "local-version" } } }`);
  const servers = configured();
  expect(servers.map((s) => [s.name, s.scope, s.file])).toEqual([
    ["shared", "project", file],
    ["legacy", "project", file],
    ["mine", "local", local],
  ]);
  expect(servers[1]?.error).toContain(`invalid entry in ${file}: mcpServers.legacy`);
  expect(Object.keys(serverMap(servers))).toEqual(["shared", "mine"]);
  expect(serverMap(servers).shared).toMatchObject({ command: "project-version" });
  expect(serverMap(servers).mine).toMatchObject({ command: "local-version" });
});

test("servers in .a3s/settings.json count; a URL may name variables, expanded when connecting", () => {
  mkdirSync(join(cwd, ".a3s"), { recursive: true });
  const shared = join(cwd, ".a3s", "settings.json");
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
  const url = "${DOCS_MCP:-https://docs.example.com}/mcp";
  writeFileSync(shared, JSON.stringify({ mcpServers: { docs: { type: "http", url } } }));
  const [docs] = configured();
  expect(docs).toMatchObject({ name: "docs", scope: "project", file: shared, config: { type: "http", url } });
  expect(expandServerConfig(docs?.config as McpServerConfig, {})).toMatchObject({
    url: "https://docs.example.com/mcp",
  });
  writeFileSync(shared, JSON.stringify({ mcpServers: { docs: { type: "http", url: "not a url" } } }));
  expect(configured()[0]?.error).toContain("mcpServers.docs.url: Invalid URL");
});

test("rm finds the one scope that has the name, and asks when both do", () => {
  addMcpServer({ ...where, scope: "user" }, "a", { command: "a" });
  addMcpServer({ ...where, scope: "user" }, "both", { command: "u" });
  addMcpServer({ ...where, scope: "project" }, "both", { command: "p" });
  expect(removeMcpServer(where, "a")).toBe(configPath);
  expect(loadConfig(configPath).config.code.mcpServers.a).toBeUndefined();
  expectA3sError(() => removeMcpServer(where, "both"), "usage", "both user and project");
  expect(removeMcpServer({ ...where, scope: "project" }, "both")).toBe(join(cwd, ".mcp.json"));
  expect(removeMcpServer(where, "both")).toBe(configPath);
  expectA3sError(() => removeMcpServer(where, "both"), "not_found", "no MCP server named 'both'");
});

test("a broken .mcp.json is a usage error naming the file", () => {
  addMcpServer({ ...where, scope: "project" }, "x", { command: "x" });
  writeFileSync(join(cwd, ".mcp.json"), "{ mcpServers: ");
  expectA3sError(() => configured(), "usage", ".mcp.json: invalid JSON");
});

test("$VAR references (with :- defaults) expand from the environment", () => {
  const env = { TOKEN: "t0k", HOST: "api.example.com" };
  /* biome-ignore-start lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax */
  const http = expandServerConfig(
    {
      type: "http",
      url: "https://${HOST}/mcp",
      headers: { Authorization: "Bearer ${TOKEN}", X: "${MISSING:-none}" },
    },
    env,
  );
  expect(http).toEqual({
    type: "http",
    url: "https://api.example.com/mcp",
    headers: { Authorization: "Bearer t0k", X: "none" },
  });
  const stdio = expandServerConfig(
    { command: "${HOST}-cli", args: ["--token=${TOKEN}"], env: { A: "${TOKEN}" } },
    env,
  );
  expect(stdio).toEqual({ command: "api.example.com-cli", args: ["--token=t0k"], env: { A: "t0k" } });
  expectA3sError(
    () => expandServerConfig({ command: "x", args: ["${NOPE}"], env: {} }, env),
    "usage",
    "NOPE is not set",
  );
  /* biome-ignore-end lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax */
});
