/**
 * The a3s code TUI in a real terminal (tmux): type a prompt, approve a tool call in the dialog,
 * read the streamed answer off the screen, quit with /exit; the session is saved.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeProvider, startFakeProvider, writeFakeProviderConfig } from "../fixtures/fake-provider.ts";
import { a3s, BINARY, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

const TMUX = Bun.which("tmux");
const KEY = "sk-tui-test";
const SESSION = `a3s-tui-${process.pid}`;
const ROOT = join(import.meta.dir, "..", "..");
let fake: FakeProvider;

beforeAll(async () => {
  if (!TMUX) throw new Error("tmux is not installed: .ci/run installs it (apt-get install tmux)");
  fake = await startFakeProvider({ apiKey: KEY });
  await ensureBuilt();
});
afterAll(async () => {
  Bun.spawnSync(["tmux", "kill-session", "-t", SESSION]);
  await fake?.stop();
});

function tmux(...args: string[]): string {
  const result = Bun.spawnSync(["tmux", ...args]);
  if (result.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

const screen = () => tmux("capture-pane", "-p", "-t", SESSION);

async function waitForScreen(what: string | RegExp, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = screen();
    if (typeof what === "string" ? text.includes(what) : what.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} on the screen:\n${text}`);
    await Bun.sleep(100);
  }
}

test("prompt, approval dialog, streamed answer and /exit in a real terminal", async () => {
  const home = tempHome();
  writeFakeProviderConfig(home, fake);
  const dir = mkdtempSync(join(tmpdir(), "a3s-tui-project-"));
  writeFileSync(join(dir, "notes.txt"), "first line\n");

  fake
    .reply()
    .text("I will append a line.")
    .tool("bash", { command: "echo appended >> notes.txt", description: "append" });
  fake.reply().text("Done: **notes.txt** now has two lines.").chunk(3).delay(5).stop();

  // CI=true: Ink would draw nothing until exit if it believed it ran in CI (CI machines set it).
  const command = `env CI=true A3S_HOME=${home} FAKE_KEY=${KEY} NO_COLOR=1 ${BINARY} code; echo "exit=$?" > ${join(dir, "exit-code")}; sleep 30`;
  tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30", "-c", dir, command);
  await waitForScreen("for commands");

  tmux("send-keys", "-t", SESSION, "-l", "add a line to notes.txt");
  tmux("send-keys", "-t", SESSION, "Enter");
  const dialog = await waitForScreen("Do you want to proceed?");
  expect(dialog).toContain("echo appended >> notes.txt");
  expect(dialog).toContain("don't ask again");
  expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("first line\n");

  tmux("send-keys", "-t", SESSION, "1");
  const answered = await waitForScreen("now has two lines");
  expect(answered).toContain("add a line to notes.txt");
  expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("first line\nappended\n");

  tmux("send-keys", "-t", SESSION, "-l", "/exit");
  tmux("send-keys", "-t", SESSION, "Enter");
  for (let i = 0; i < 100; i++) {
    try {
      if (readFileSync(join(dir, "exit-code"), "utf8").trim() === "exit=0") break;
    } catch {}
    await Bun.sleep(100);
  }
  expect(readFileSync(join(dir, "exit-code"), "utf8").trim()).toBe("exit=0");

  const sessions = expectExit(await a3s(["code", "sessions", "ls", "--all", "--json"], { home }), 0).json<
    Array<{ title: string; messages: number }>
  >();
  expect(sessions[0]).toMatchObject({ title: "add a line to notes.txt", messages: 4 });
});

test("a project that configures MCP servers is trusted before anything starts; refusing exits 7", async () => {
  const home = tempHome();
  writeFakeProviderConfig(home, fake);
  const dir = mkdtempSync(join(tmpdir(), "a3s-tui-trust-"));
  const marker = join(dir, "server-started");
  // The server leaves a marker when it starts: a project nobody trusted must not get that far.
  const server = `touch '${marker}' && exec '${process.execPath}' '${join(ROOT, "tests", "fixtures", "mcp-server.ts")}'`;
  writeFileSync(
    join(dir, ".mcp.json"),
    JSON.stringify({ mcpServers: { fixture: { command: "sh", args: ["-c", server] } } }),
  );
  const start = () => {
    Bun.spawnSync(["tmux", "kill-session", "-t", SESSION]);
    const command = `env CI=true A3S_HOME=${home} FAKE_KEY=${KEY} NO_COLOR=1 ${BINARY} code; echo "exit=$?" > ${join(dir, "exit-code")}; sleep 30`;
    tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30", "-c", dir, command);
  };
  const exitCode = async () => {
    for (let i = 0; i < 100 && !existsSync(join(dir, "exit-code")); i++) await Bun.sleep(100);
    return readFileSync(join(dir, "exit-code"), "utf8").trim();
  };

  start();
  const question = await waitForScreen("Trust this folder?");
  expect(question).toContain("MCP servers: fixture");
  tmux("send-keys", "-t", SESSION, "Down");
  tmux("send-keys", "-t", SESSION, "Enter");
  expect(await exitCode()).toBe("exit=7");
  expect(existsSync(marker)).toBe(false);

  Bun.spawnSync(["rm", "-f", join(dir, "exit-code")]);
  start();
  await waitForScreen("Trust this folder?");
  tmux("send-keys", "-t", SESSION, "Enter");
  await waitForScreen("for commands");
  expect(existsSync(marker)).toBe(true);
  tmux("send-keys", "-t", SESSION, "-l", "/exit");
  tmux("send-keys", "-t", SESSION, "Enter");
  expect(await exitCode()).toBe("exit=0");
  expect(Object.keys(JSON.parse(readFileSync(join(home, "trusted-projects.json"), "utf8")).projects)).toEqual(
    [dir],
  );

  // Trusted once: the next start goes straight to the prompt.
  Bun.spawnSync(["rm", "-f", join(dir, "exit-code")]);
  start();
  const screen = await waitForScreen("for commands");
  expect(screen).not.toContain("Trust this folder?");
});

test("first run: the setup saves a provider and a model (never a key), then the chat uses them", async () => {
  const home = tempHome();
  const dir = mkdtempSync(join(tmpdir(), "a3s-tui-setup-"));
  const start = () => {
    Bun.spawnSync(["tmux", "kill-session", "-t", SESSION]);
    Bun.spawnSync(["rm", "-f", join(dir, "exit-code")]);
    const command = `env CI=true A3S_HOME=${home} FAKE_KEY=${KEY} NO_COLOR=1 ${BINARY} code; echo "exit=$?" > ${join(dir, "exit-code")}; sleep 30`;
    tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "30", "-c", dir, command);
  };
  const exitCode = async () => {
    for (let i = 0; i < 100 && !existsSync(join(dir, "exit-code")); i++) await Bun.sleep(100);
    return readFileSync(join(dir, "exit-code"), "utf8").trim();
  };
  const answer = async (question: string, text: string) => {
    await waitForScreen(question);
    tmux("send-keys", "-t", SESSION, "-l", text);
    tmux("send-keys", "-t", SESSION, "Enter");
  };

  // Ctrl-C at the first question: nothing is saved, exit 130.
  start();
  await waitForScreen("Provider");
  tmux("send-keys", "-t", SESSION, "C-c");
  expect(await exitCode()).toBe("exit=130");
  expect(existsSync(join(home, "config.json"))).toBe(false);

  start();
  const providers = await waitForScreen("Provider");
  expect(providers).toContain("Anthropic");
  expect(providers).toContain("a3s power (local models, no key)");
  for (let i = 0; i < 6; i++) tmux("send-keys", "-t", SESSION, "Down");
  tmux("send-keys", "-t", SESSION, "Enter");
  await answer("A name for it", "fake");
  await answer("Base URL", fake.openaiUrl);
  await answer("Environment variable with its API key", "FAKE_KEY");
  await answer("Model id", "gpt-4.1");
  await waitForScreen("for commands");

  fake.reply().text("Hello from the model you just chose.").stop();
  tmux("send-keys", "-t", SESSION, "-l", "hello");
  tmux("send-keys", "-t", SESSION, "Enter");
  await waitForScreen("Hello from the model you just chose.");
  tmux("send-keys", "-t", SESSION, "-l", "/exit");
  tmux("send-keys", "-t", SESSION, "Enter");
  expect(await exitCode()).toBe("exit=0");

  const saved = readFileSync(join(home, "config.json"), "utf8");
  expect(JSON.parse(saved).code).toEqual({
    model: "fake/gpt-4.1",
    providers: { fake: { type: "openai", baseUrl: fake.openaiUrl, apiKeyEnv: "FAKE_KEY" } },
  });
  expect(saved).not.toContain(KEY);

  // Configured now: the next start goes straight to the prompt.
  start();
  expect(await waitForScreen("for commands")).not.toContain("Provider");
});
