/**
 * Loaded before every test file (bunfig.toml): tests never touch the user's home, config or keys.
 */
import { afterAll } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = mkdtempSync(join(tmpdir(), "a3s-test-"));
const home = join(root, "home");
mkdirSync(home, { recursive: true });

process.env.HOME = home;
process.env.A3S_HOME = join(home, ".a3s");
process.env.XDG_CONFIG_HOME = join(home, ".config");
process.env.XDG_CACHE_HOME = join(home, ".cache");
process.env.XDG_DATA_HOME = join(home, ".local", "share");
process.env.XDG_STATE_HOME = join(home, ".local", "state");
process.env.NO_COLOR = "1";

const STRIPPED = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "DEEPSEEK_API_KEY",
  "OPENROUTER_API_KEY",
  "GEMINI_API_KEY",
  "TAVILY_API_KEY",
  "BRAVE_API_KEY",
  "GOOGLE_API_KEY",
  "BING_API_KEY",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "all_proxy",
];
for (const name of STRIPPED) delete process.env[name];
for (const name of Object.keys(process.env)) {
  if (name.startsWith("A3S_") && name !== "A3S_HOME") delete process.env[name];
}

// A global hook: bun test does not run process "exit" handlers.
afterAll(() => rmSync(root, { recursive: true, force: true }));
