import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathsFor } from "../core/paths.ts";
import { CHECK_STATUSES, homeIsUnwritable, runDoctor, SUBSYSTEMS } from "./index.ts";

const tempHome = () => join(mkdtempSync(join(tmpdir(), "a3s-")), "home");

const find = (report: Awaited<ReturnType<typeof runDoctor>>, subsystem: string, name: string) =>
  report.checks.find((check) => check.subsystem === subsystem && check.name === name);

describe("runDoctor", () => {
  test("reports every subsystem with valid statuses on a fresh home", async () => {
    const home = tempHome();
    const report = await runDoctor({ paths: pathsFor(home), env: { PATH: process.env.PATH } });
    expect(new Set(report.checks.map((check) => check.subsystem))).toEqual(new Set(SUBSYSTEMS));
    for (const check of report.checks) {
      expect(CHECK_STATUSES).toContain(check.status);
      expect(check.summary).not.toBe("");
    }
    expect(find(report, "core", "home")?.status).toBe("ok");
    expect(find(report, "core", "sqlite")?.status).toBe("ok");
    expect(find(report, "core", "config")?.summary).toBe("no config file; defaults apply");
    expect(["microvm", "sandbox"]).toContain(report.isolation.mode);
    expect(homeIsUnwritable(report)).toBe(false);
    // The write probe leaves nothing behind but the database.
    expect(readdirSync(home).filter((name) => name.startsWith(".doctor-"))).toEqual([]);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  test("a file in place of the home directory is an error, and SQLite is not attempted", async () => {
    const home = tempHome();
    writeFileSync(home, "");
    const report = await runDoctor({ paths: pathsFor(home), env: {} });
    expect(find(report, "core", "home")?.status).toBe("error");
    expect(find(report, "core", "sqlite")?.status).toBe("warn");
    expect(homeIsUnwritable(report)).toBe(true);
  });

  test("a database that cannot be opened is an error", async () => {
    const home = tempHome();
    const paths = pathsFor(home);
    mkdirSync(paths.db, { recursive: true });
    expect(find(await runDoctor({ paths, env: {} }), "core", "sqlite")?.status).toBe("error");
  });

  test("an invalid config file is an error that names the file", async () => {
    const home = tempHome();
    const paths = pathsFor(home);
    await runDoctor({ paths, env: {} });
    writeFileSync(paths.config, "{ box: ");
    const config = find(await runDoctor({ paths, env: {} }), "core", "config");
    expect(config?.status).toBe("error");
    expect(config?.summary).toContain(paths.config);
  });

  test("provider keys and proxies are reported by name only", async () => {
    const env = { OPENAI_API_KEY: "sk-secret", https_proxy: "http://user:pw@proxy:3128" };
    const report = await runDoctor({ paths: pathsFor(tempHome()), env });
    const keys = find(report, "code", "provider keys");
    expect(keys?.status).toBe("ok");
    expect(keys?.summary).toBe("set: OPENAI_API_KEY");
    expect(find(report, "search", "proxy")?.summary).toBe("set: https_proxy");
    const text = JSON.stringify(report);
    expect(text).not.toContain("sk-secret");
    expect(text).not.toContain("pw@proxy");
  });

  test("without a provider key the code check warns", async () => {
    const report = await runDoctor({ paths: pathsFor(tempHome()), env: {} });
    expect(find(report, "code", "provider keys")?.status).toBe("warn");
  });

  test("power says whether node-llama-cpp can be loaded", async () => {
    const report = await runDoctor({ paths: pathsFor(tempHome()), env: {} });
    const power = find(report, "power", "node-llama-cpp");
    expect(power?.status).toBe("ok");
    expect(power?.summary).toMatch(/^llama\.cpp prebuilt build \(cpu\), \d+ threads by default$/);
  });
});
