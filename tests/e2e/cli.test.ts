import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { a3s, ensureBuilt, expectExit, ROOT, tempHome } from "./a3s.ts";

beforeAll(ensureBuilt);

describe("a3s binary", () => {
  test("--version prints the package version", async () => {
    const result = expectExit(await a3s(["--version"]), 0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  test("version --json has the documented fields", async () => {
    const info = expectExit(await a3s(["version", "--json"]), 0).json<Record<string, string>>();
    expect(Object.keys(info).sort()).toEqual(["arch", "bun", "commit", "platform", "version"]);
    expect(info.version).toBe(pkg.version);
    expect(info.platform).toBe(process.platform);
    expect(info.bun).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.commit).not.toBe("dev");
  });

  test("no arguments prints help and exits 0", async () => {
    const result = expectExit(await a3s([]), 0);
    expect(result.stdout).toContain("Usage: a3s");
    expect(result.stdout).toContain("box");
  });

  test("an unknown command exits 2 with a suggestion", async () => {
    const result = expectExit(await a3s(["boxx"]), 2);
    expect(result.stderr).toContain("error: unknown command 'boxx'");
    expect(result.stderr).toContain("hint: Did you mean box?");
    expect(result.stdout).toBe("");
  });

  test("an unknown option exits 2", async () => {
    const result = expectExit(await a3s(["version", "--frobnicate"]), 2);
    expect(result.stderr).toContain("unknown option '--frobnicate'");
  });

  test("errors become JSON on stdout with --json", async () => {
    const result = expectExit(await a3s(["boxx", "--json"]), 2);
    const { error } = result.json<{ error: { code: string; message: string; hint?: string } }>();
    expect(error.code).toBe("usage");
    expect(error.message).toContain("boxx");
  });

  test("doctor --json reports every subsystem", async () => {
    const report = expectExit(await a3s(["doctor", "--json"]), 0).json<{
      checks: Array<{ subsystem: string; name: string; status: string }>;
    }>();
    const subsystems = new Set(report.checks.map((c) => c.subsystem));
    for (const name of ["core", "box", "power", "code", "cron", "search"])
      expect(subsystems.has(name)).toBe(true);
    for (const check of report.checks) expect(["ok", "warn", "error", "info"]).toContain(check.status);
  });

  test("completion bash matches the checked-in script", async () => {
    const result = expectExit(await a3s(["completion", "bash"]), 0);
    expect(result.stdout).toBe(readFileSync(join(ROOT, "completions", "a3s.bash"), "utf8"));
  });
});

describe("config", () => {
  test("set then get round-trips through the file", async () => {
    const home = tempHome();
    expectExit(await a3s(["config", "set", "box.registryMirrors", "mirror.local:5000,m2.io"], { home }), 0);
    const got = expectExit(await a3s(["config", "get", "box.registryMirrors", "--json"], { home }), 0);
    expect(got.json()).toEqual({
      key: "box.registryMirrors",
      value: ["mirror.local:5000", "m2.io"],
      source: "file",
    });
    expect(JSON.parse(readFileSync(join(home, "config.json"), "utf8"))).toEqual({
      box: { registryMirrors: ["mirror.local:5000", "m2.io"] },
    });
  });

  test("the environment overrides the file", async () => {
    const home = tempHome();
    expectExit(await a3s(["config", "set", "box.runtime", "runc"], { home }), 0);
    const got = await a3s(["config", "get", "box.runtime"], { home, env: { A3S_BOX_RUNTIME: "runsc" } });
    expect(expectExit(got, 0).stdout).toBe("runsc\n");
  });

  test("an invalid value exits 2 naming the key and writes nothing", async () => {
    const home = tempHome();
    const result = expectExit(await a3s(["config", "set", "box.runtime", "docker"], { home }), 2);
    expect(result.stderr).toContain("box.runtime");
    expect(existsSync(join(home, "config.json"))).toBe(false);
  });

  test("--home overrides A3S_HOME", async () => {
    const home = tempHome();
    const result = expectExit(
      await a3s(["config", "path", "--home", home], { env: { A3S_HOME: "/nonexistent" } }),
      0,
    );
    expect(result.stdout.trim()).toBe(join(home, "config.json"));
  });

  test("list --json gives key, value and source for every key", async () => {
    const entries = expectExit(await a3s(["config", "list", "--json"]), 0).json<
      Array<Record<string, unknown>>
    >();
    expect(entries.length).toBeGreaterThan(10);
    for (const entry of entries) expect(Object.keys(entry).sort()).toEqual(["key", "source", "value"]);
  });
});
