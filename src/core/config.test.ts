import { beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getConfigValue, knownKeys, listConfig, loadConfig, setConfigValue } from "./config.ts";
import { A3sError } from "./errors.ts";

let file: string;
beforeEach(() => {
  file = join(mkdtempSync(join(tmpdir(), "a3s-config-")), "config.json");
});

function errorOf(fn: () => unknown): A3sError {
  try {
    fn();
  } catch (err) {
    if (err instanceof A3sError) return err;
    throw err;
  }
  throw new Error("expected an A3sError");
}

describe("loadConfig", () => {
  test("no file gives the defaults", () => {
    const { config, sources } = loadConfig(file, {});
    expect(config.box.runtime).toBe("crun");
    expect(config.box.registryMirrors).toEqual([]);
    expect(config.power.registry).toBe("registry.ollama.ai");
    expect(sources.size).toBe(0);
  });

  test("precedence: defaults < file < environment", () => {
    writeFileSync(file, JSON.stringify({ box: { runtime: "runc", maxConcurrentDownloads: 5 } }));
    const { config, sources } = loadConfig(file, { A3S_BOX_RUNTIME: "runsc" });
    expect(config.box.runtime).toBe("runsc");
    expect(config.box.maxConcurrentDownloads).toBe(5);
    expect(config.box.isolation).toBe("auto");
    expect(sources.get("box.runtime")).toBe("env");
    expect(sources.get("box.maxConcurrentDownloads")).toBe("file");
  });

  test("list environment variables are comma-separated", () => {
    const { config } = loadConfig(file, { A3S_REGISTRY_MIRRORS: "mirror.a, mirror.b" });
    expect(config.box.registryMirrors).toEqual(["mirror.a", "mirror.b"]);
  });

  test("JSONC: comments and trailing commas are tolerated", () => {
    writeFileSync(file, '{\n  // my mirror\n  "box": { "registryMirrors": ["m.io"], },\n}\n');
    expect(loadConfig(file, {}).config.box.registryMirrors).toEqual(["m.io"]);
  });

  test("a wrong type is an error naming the field", () => {
    writeFileSync(file, JSON.stringify({ box: { maxConcurrentDownloads: "many" } }));
    const err = errorOf(() => loadConfig(file, {}));
    expect(err.code).toBe("usage");
    expect(err.message).toContain("box.maxConcurrentDownloads");
    expect(err.message).toContain(file);
  });

  test("an unknown key is an error naming it", () => {
    writeFileSync(file, JSON.stringify({ box: { runtme: "crun" } }));
    const err = errorOf(() => loadConfig(file, {}));
    expect(err.message).toContain("box.runtme");
    expect(err.message).toContain("unknown key");
  });

  test("a bad environment value names the variable", () => {
    const err = errorOf(() => loadConfig(file, { A3S_ISOLATION: "vm" }));
    expect(err.message).toContain("A3S_ISOLATION");
  });

  test("malformed JSON names line and column", () => {
    writeFileSync(file, '{\n  "box": \n');
    const err = errorOf(() => loadConfig(file, {}));
    expect(err.code).toBe("usage");
    expect(err.message).toMatch(/config\.json:\d+:\d+: invalid JSON/);
  });

  test("a non-object file is rejected", () => {
    writeFileSync(file, "[1,2]");
    expect(errorOf(() => loadConfig(file, {})).message).toContain("must be a JSON object");
  });
});

describe("setConfigValue", () => {
  test("round trip with type conversion", () => {
    setConfigValue(file, "box.maxConcurrentDownloads", "7");
    setConfigValue(file, "box.registryMirrors", "a.io,b.io");
    const loaded = loadConfig(file, {});
    expect(getConfigValue(loaded, "box.maxConcurrentDownloads")).toBe(7);
    expect(getConfigValue(loaded, "box.registryMirrors")).toEqual(["a.io", "b.io"]);
  });

  test("keeps comments of a JSONC file", () => {
    writeFileSync(file, '{\n  // keep me\n  "box": { "runtime": "runc" }\n}\n');
    setConfigValue(file, "box.isolation", "sandbox");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("// keep me");
    expect(loadConfig(file, {}).config.box.isolation).toBe("sandbox");
  });

  test("an invalid value leaves the file untouched", () => {
    setConfigValue(file, "box.runtime", "runc");
    const before = readFileSync(file, "utf8");
    expect(errorOf(() => setConfigValue(file, "box.runtime", "docker")).message).toContain("box.runtime");
    expect(errorOf(() => setConfigValue(file, "http.retries", "lots")).message).toContain("not a number");
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  test("unknown keys are refused with the section's keys as a hint", () => {
    const err = errorOf(() => setConfigValue(file, "box.mirrors", "x"));
    expect(err.message).toContain("box.mirrors");
    expect(err.hint).toContain("box.registryMirrors");
  });

  test("unset returns a key to its default", () => {
    setConfigValue(file, "box.runtime", "runc");
    setConfigValue(file, "box.runtime", undefined);
    expect(loadConfig(file, {}).config.box.runtime).toBe("crun");
  });

  test("record entries (providers) can be set as JSON", () => {
    setConfigValue(
      file,
      "code.providers.deepseek",
      '{"type":"openai","baseUrl":"https://api.deepseek.com/v1"}',
    );
    const loaded = loadConfig(file, {});
    expect(loaded.config.code.providers.deepseek?.type).toBe("openai");
    expect(listConfig(loaded).some((e) => e.key === "code.providers.deepseek.type")).toBe(true);
  });

  test("writes atomically and leaves no temp files", () => {
    setConfigValue(file, "log.level", "debug");
    expect(statSync(file).isFile()).toBe(true);
    const dir = join(file, "..");
    expect(readdirSync(dir)).toEqual(["config.json"]);
  });
});

test("listConfig shows every known key with its source", () => {
  writeFileSync(file, JSON.stringify({ power: { threads: 2 } }));
  const entries = listConfig(loadConfig(file, { A3S_LOG_LEVEL: "warn" }));
  const byKey = new Map(entries.map((e) => [e.key, e]));
  expect(byKey.get("power.threads")).toMatchObject({ value: 2, source: "file" });
  expect(byKey.get("log.level")).toMatchObject({ value: "warn", source: "env" });
  expect(byKey.get("box.runtime")).toMatchObject({ value: "crun", source: "default" });
  expect(byKey.has("code.model")).toBe(true);
  for (const key of knownKeys().filter((k) => !k.includes("<"))) expect(byKey.has(key)).toBe(true);
});
