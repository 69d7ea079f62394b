/**
 * Snapshots of stopped sandbox boxes through the compiled binary: the filesystem (including deletions)
 * and the configuration come back in a new box.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { busyboxLayer, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

let registry: Registry;
let image: string;
const home = tempHome();
const box = (args: string[]) => a3s(["box", ...args], { home });

beforeAll(async () => {
  [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
  await pushImage(registry, "e2e/snap", "1", { layers: [busyboxLayer()] });
  image = `${registry.host}/e2e/snap:1`;
});
afterAll(async () => {
  await registry?.stop();
});

test("create, ls, inspect, restore, rm, prune", async () => {
  const script =
    "cat /greeting 2>/dev/null; echo hello > /greeting; rm -f /etc/group; ls /etc | tr '\\n' ' '";
  const first = expectExit(
    await box(["run", "--name", "orig", "-e", "MODE=snap", image, "sh", "-c", script]),
    0,
  );
  expect(first.stdout).toBe("hostname hosts passwd resolv.conf ");

  const id = expectExit(
    await box(["snapshot", "create", "--name", "s1", "--description", "after one run", "orig"]),
    0,
  ).stdout.trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  expect(
    expectExit(await box(["snapshot", "ls", "--format", "{{.Name}} {{.Box}} {{.Description}}"]), 0).stdout,
  ).toBe("s1 orig after one run\n");
  const [described] = expectExit(await box(["snapshot", "inspect", "s1"]), 0).json<
    Array<{ Id: string; Config: { env: string[] } }>
  >();
  expect(described?.Id).toBe(id);
  expect(described?.Config.env).toEqual(["MODE=snap"]);

  expectExit(await box(["rm", "orig"]), 0);
  expectExit(await box(["snapshot", "restore", "s1", "--name", "copy"]), 0);
  const again = expectExit(await box(["start", "-a", "copy"]), 0);
  expect(again.stdout).toBe("hello\nhostname hosts passwd resolv.conf ");
  expectExit(await box(["rm", "copy"]), 0);

  expect(expectExit(await box(["snapshot", "create", "nosuchbox"]), 3).stderr).toContain("No such box");
  expectExit(await box(["run", "-d", "--name", "busy", image, "sleep", "30"]), 0);
  expect(expectExit(await box(["snapshot", "create", "busy"]), 4).stderr).toContain("is running");
  expectExit(await box(["stop", "-t", "0", "busy"]), 0);
  expectExit(await box(["snapshot", "create", "--name", "s2", "busy"]), 0);
  expectExit(await box(["snapshot", "create", "--name", "s2", "busy"]), 4);
  expectExit(await box(["rm", "busy"]), 0);

  expect(expectExit(await box(["snapshot", "prune", "--keep", "1"]), 0).stdout).toBe("Deleted: s1\n");
  expect(expectExit(await box(["snapshot", "rm", "s2"]), 0).stdout).toBe("s2\n");
  expect(expectExit(await box(["snapshot", "ls", "-q"]), 0).stdout).toBe("");
});
