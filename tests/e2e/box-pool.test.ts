/**
 * The warm pool through the compiled binary: `box pool warm` saves a parked guest, microVM runs of
 * that image restore it instead of booting, and a damaged state gives a warning and a cold boot.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { findKernel } from "../../src/box/microvm/kernel.ts";
import { pathsFor } from "../../src/core/paths.ts";
import { busyboxLayer, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, ensureBuilt, expectExit, ROOT, tempHome } from "./a3s.ts";

const kernel = findKernel(pathsFor(join(userInfo().homedir, ".a3s")), join(ROOT, "dist"));
const skipReason = !Bun.which("qemu-system-x86_64")
  ? "qemu-system-x86_64 is not installed"
  : kernel === undefined
    ? "no a3s guest kernel: build it with `bun scripts/build-kernel.ts` (.ci/run does)"
    : undefined;
if (skipReason) console.warn(`skipping the warm pool tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

let registry: Registry;
let image: string;
const home = tempHome();
const box = (args: string[], env: Record<string, string> = {}) =>
  a3s(["box", ...args], { home, env: { A3S_KERNEL: kernel, ...env } });
const microvm = (args: string[], env?: Record<string, string>) =>
  box(["run", "--isolation", "microvm", ...args], env);

interface Described {
  Key: string;
  ImageRef: string;
  MemoryMiB: number;
  Cpus: number;
  Size: number;
  Status?: string;
}

interface Inspected {
  A3s: { WarmStart?: boolean };
}

async function warmStart(name: string): Promise<boolean | undefined> {
  const [info] = expectExit(await box(["inspect", name]), 0).json<Inspected[]>();
  return info?.A3s.WarmStart;
}

/** The pool entry's files, for the tests that damage them. */
function entryDir(key: string): string {
  return join(home, "pool", key);
}

maybe("the warm pool", () => {
  beforeAll(async () => {
    [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
    await pushImage(registry, "e2e/pool", "1", { layers: [busyboxLayer()] });
    image = `${registry.host}/e2e/pool:1`;
    expectExit(await box(["pull", "-q", image]), 0);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("warm, ls, and runs of the image restore the saved guest", async () => {
    const warmed = expectExit(await box(["pool", "warm", image, "--json"]), 0).json<Described>();
    expect(warmed).toMatchObject({ ImageRef: image, MemoryMiB: 256, Cpus: 1 });
    expect(warmed.Size).toBeGreaterThan(1024 ** 2);
    const listed = expectExit(await box(["pool", "ls", "--json"]), 0).json<Described[]>();
    expect(listed.map((entry) => [entry.Key, entry.Status])).toEqual([[warmed.Key, "ready"]]);

    const started = Date.now();
    const result = await microvm(["--rm", image, "sh", "-c", "echo warm; cat /proc/uptime"], {
      A3S_LOG_LEVEL: "debug",
    });
    expectExit(result, 0);
    expect(result.stdout).toMatch(/^warm\n[\d.]+ [\d.]+\n$/);
    expect(result.stderr).toBe("");
    const logs = readdirSync(join(home, "logs"))
      .map((file) => readFileSync(join(home, "logs", file), "utf8"))
      .join("");
    expect(logs).toContain(`restored from the warm snapshot ${warmed.Key}`);
    // The guest's uptime counts from when the pool was warmed (the clock stops while it is saved).
    console.log(`warm run: ${Date.now() - started} ms, guest uptime ${result.stdout.split("\n")[1]}`);

    // A kept box: its own disk, the host's clock, and inspect says how it came up.
    const script = "cat /kept 2>/dev/null; echo kept > /kept; date +%s";
    const first = expectExit(await microvm(["--name", "kept", image, "sh", "-c", script]), 0);
    expect(Math.abs(Number(first.stdout.trim()) - Date.now() / 1000)).toBeLessThan(30);
    expect(await warmStart("kept")).toBe(true);
    expect(expectExit(await box(["start", "-a", "kept"]), 0).stdout).toMatch(/^kept\n\d+\n$/);
    expectExit(await box(["rm", "kept"]), 0);
  });

  test("volumes ride on a restored guest; a microVM takes at most four", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a3s-poolvol-"));
    writeFileSync(join(dir, "in"), "from host\n");
    const script = "cat /data/in; echo from-vm > /data/out; touch /ro/x 2>/dev/null || echo read-only";
    const result = expectExit(
      await microvm([
        "--name",
        "vols",
        "-v",
        `${dir}:/data`,
        "-v",
        `${dir}:/ro:ro`,
        image,
        "sh",
        "-c",
        script,
      ]),
      0,
    );
    expect(result.stdout).toBe("from host\nread-only\n");
    expect(readFileSync(join(dir, "out"), "utf8")).toBe("from-vm\n");
    expect(await warmStart("vols")).toBe(true);
    const four = ["a", "b", "c", "d"].flatMap((name) => ["-v", `${dir}:/${name}`]);
    expect(expectExit(await microvm(["--rm", ...four, image, "cat", "/d/in"]), 0).stdout).toBe("from host\n");
    const five = [...four, "-v", `${dir}:/e`];
    expect(expectExit(await microvm(["--rm", ...five, image, "true"]), 125).stderr).toContain(
      "at most 4 volumes",
    );
    expectExit(await box(["rm", "vols"]), 0);
  });

  test("a damaged state: a warning, a cold boot, and the entry is gone", async () => {
    // Truncated: refused before QEMU sees it.
    let key = expectExit(await box(["pool", "warm", image]), 0).stdout.trim();
    truncateSync(join(entryDir(key), "state"), 4096);
    let result = expectExit(await microvm(["--name", "cold1", image, "echo", "still runs"]), 0);
    expect(result.stdout).toBe("still runs\n");
    expect(result.stderr).toContain(`warning: the warm snapshot ${key} cannot be used`);
    expect(await warmStart("cold1")).toBe(false);
    expect(expectExit(await box(["pool", "ls", "-q"]), 0).stdout).toBe("");

    // Garbage behind a matching checksum: QEMU refuses to load it, and the box boots cold.
    key = expectExit(await box(["pool", "warm", image]), 0).stdout.trim();
    const state = readFileSync(join(entryDir(key), "state"));
    state.fill(0x42, 4096, 2 * 1024 ** 2);
    writeFileSync(join(entryDir(key), "state"), state);
    const metaPath = join(entryDir(key), "meta.json");
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as { stateXxh64: string };
    meta.stateXxh64 = Bun.hash.xxHash64(state).toString(16).padStart(16, "0");
    writeFileSync(metaPath, JSON.stringify(meta));
    result = expectExit(await microvm(["--name", "cold2", image, "echo", "still runs"]), 0);
    expect(result.stdout).toBe("still runs\n");
    expect(result.stderr).toContain(`warning: cannot restore the warm snapshot ${key}`);
    expect(await warmStart("cold2")).toBe(false);
    expect(expectExit(await box(["pool", "ls", "-q"]), 0).stdout).toBe("");
    expectExit(await box(["rm", "cold1", "cold2"]), 0);
  });

  test("rm removes an image's entries; -m and --cpus make entries of their own", async () => {
    const small = expectExit(await box(["pool", "warm", "-m", "128m", image, "--json"]), 0).json<Described>();
    expect(small.MemoryMiB).toBe(128);
    const normal = expectExit(await box(["pool", "warm", image]), 0).stdout.trim();
    expect(
      expectExit(await box(["pool", "ls", "-q"]), 0)
        .stdout.trim()
        .split("\n")
        .sort(),
    ).toEqual([small.Key, normal].sort());
    // 96 MiB of memory is another shape: no entry for it, so the box boots cold.
    expectExit(await microvm(["--name", "other", "-m", "96m", image, "true"]), 0);
    expect(await warmStart("other")).toBe(false);
    expectExit(await box(["rm", "other"]), 0);
    const removed = expectExit(await box(["pool", "rm", image, "--json"]), 0).json<Array<{ Key: string }>>();
    expect(removed.map((entry) => entry.Key).sort()).toEqual([small.Key, normal].sort());
    expect(expectExit(await box(["pool", "rm", image]), 3).stderr).toContain("No warm snapshot");
    expect(expectExit(await box(["pool", "warm", "nosuch/image"]), 3).stderr).toContain("No such image");
  });
});
