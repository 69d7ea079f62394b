/**
 * `a3s code run --sandbox IMAGE`: the agent's bash tool runs inside a throwaway a3s box (real crun,
 * image from a real registry) with the workspace mounted at the same path.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentEvent } from "../../src/code/types.ts";
import { type FakeProvider, startFakeProvider, writeFakeProviderConfig } from "../fixtures/fake-provider.ts";
import { busyboxLayer, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

const KEY = "sk-sandbox-test";
let registry: Registry;
let fake: FakeProvider;
let image: string;
let home: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error("box run needs root (crun, overlayfs, cgroups); CI runs as root");
  [registry, fake] = await Promise.all([startRegistry(), startFakeProvider({ apiKey: KEY }), ensureBuilt()]);
  await pushImage(registry, "e2e/sandbox", "1", {
    layers: [busyboxLayer()],
    config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"] },
  });
  image = `${registry.host}/e2e/sandbox:1`;
  home = tempHome();
  writeFakeProviderConfig(home, fake);
  expectExit(await a3s(["box", "pull", "-q", image], { home }), 0);
});
afterAll(async () => {
  await fake?.stop();
  await registry?.stop();
});

test("bash runs in the box: the image's filesystem, the workspace mounted read-write", async () => {
  const dir = mkdtempSync(join(tmpdir(), "a3s-code-sandbox-"));
  writeFileSync(join(dir, "input.txt"), "from the host\n");
  fake.reply().tool("bash", {
    command:
      "[ -e /etc/debian_version ] && echo on-host || echo in-box; cat input.txt; echo written > out.txt",
  });
  fake.reply().text("done").stop();
  const result = expectExit(
    await a3s(["code", "run", "--json", "--sandbox", image, "--allow", "Bash", "look around"], {
      home,
      cwd: dir,
      env: { FAKE_KEY: KEY },
    }),
    0,
  );
  const events = result.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as AgentEvent);
  const ran = events.find((e) => e.type === "tool_result") as Extract<AgentEvent, { type: "tool_result" }>;
  expect(ran.isError).toBe(false);
  expect(ran.content).toContain("in-box");
  expect(ran.content).toContain("from the host");
  expect(readFileSync(join(dir, "out.txt"), "utf8")).toBe("written\n");
  expect(expectExit(await a3s(["box", "ps", "-a", "-q"], { home }), 0).stdout).toBe("");
});
