/**
 * microVM boxes through the compiled binary: a3s's own kernel and init under QEMU (TCG here: this
 * machine's KVM cannot boot guests), with the same lifecycle as sandbox boxes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { findKernel } from "../../src/box/microvm/kernel.ts";
import { pathsFor } from "../../src/core/paths.ts";
import { busyboxLayer, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, ensureBuilt, expectExit, ROOT, tempHome } from "./a3s.ts";

// The tests' HOME is a temp dir; the machine's kernel cache is in the real one (.ci/run builds it).
const kernel = findKernel(pathsFor(join(userInfo().homedir, ".a3s")), join(ROOT, "dist"));
const skipReason = !Bun.which("qemu-system-x86_64")
  ? "qemu-system-x86_64 is not installed"
  : kernel === undefined
    ? "no a3s guest kernel: build it with `bun scripts/build-kernel.ts` (.ci/run does)"
    : undefined;
if (skipReason) console.warn(`skipping the microVM tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

let registry: Registry;
let image: string;
const home = tempHome();
const box = (args: string[], stdin?: string) =>
  a3s(["box", ...args], { home, env: { A3S_KERNEL: kernel }, ...(stdin === undefined ? {} : { stdin }) });

maybe("microVM boxes", () => {
  beforeAll(async () => {
    [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
    await pushImage(registry, "e2e/vm", "1", { layers: [busyboxLayer()] });
    image = `${registry.host}/e2e/vm:1`;
    expectExit(await box(["pull", "-q", image]), 0);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test("run: output, exit code, its own kernel, stdin", async () => {
    const result = await box([
      "run",
      "--rm",
      "--isolation",
      "microvm",
      image,
      "sh",
      "-c",
      "echo out; echo err >&2; uname -r; exit 3",
    ]);
    expectExit(result, 3);
    expect(result.stdout).toMatch(/^out\n6\.1\.\d+/);
    expect(result.stderr).toBe("err\n");
    expect(
      expectExit(await box(["run", "--rm", "-i", "--isolation", "microvm", image, "cat"], "into the vm\n"), 0)
        .stdout,
    ).toBe("into the vm\n");
    expectExit(await box(["run", "--rm", "--isolation", "microvm", image, "nosuchcmd"]), 127);
  });

  test("-m and --cpus become the VM's memory and vCPUs; -v shares a host directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a3s-vmvol-"));
    writeFileSync(join(dir, "in"), "from host\n");
    const script = "nproc; grep MemTotal /proc/meminfo; cat /data/in; echo from-vm > /data/out; touch /ro/x";
    const args = [
      "run",
      "--rm",
      "--isolation",
      "microvm",
      "-m",
      "96m",
      "--cpus",
      "2",
      "-v",
      `${dir}:/data`,
      "-v",
      `${dir}:/ro:ro`,
    ];
    const result = await box([...args, image, "sh", "-c", script]);
    expect(result.code).not.toBe(0); // the read-only share refused the write
    const [cpus, mem, shared] = result.stdout.trim().split("\n");
    expect(cpus).toBe("2");
    expect(Number(/(\d+) kB/.exec(mem ?? "")?.[1])).toBeLessThan(96 * 1024);
    expect(shared).toBe("from host");
    expect(readFileSync(join(dir, "out"), "utf8")).toBe("from-vm\n");
  });

  test("-d, exec, logs, stop, inspect reports the accelerator", async () => {
    const script = 'trap "echo bye; exit 0" TERM; echo up; while true; do sleep 0.1; done';
    expectExit(
      await box(["run", "-d", "--name", "vm", "--isolation", "microvm", image, "sh", "-c", script]),
      0,
    );
    expect(expectExit(await box(["exec", "vm", "sh", "-c", "echo in-vm; exit 6"]), 6).stdout).toBe("in-vm\n");
    const [info] = expectExit(await box(["inspect", "vm"]), 0).json<
      Array<{ State: { Status: string }; A3s: { Isolation: string; Accelerator: string } }>
    >();
    expect(info?.State.Status).toBe("running");
    expect(info?.A3s.Isolation).toBe("microvm");
    expect(["kvm", "hvf", "tcg"]).toContain(info?.A3s.Accelerator ?? "");
    expectExit(await box(["stop", "vm"]), 0);
    expect(expectExit(await box(["logs", "vm"]), 0).stdout).toBe("up\nbye\n");
    expectExit(await box(["rm", "vm"]), 0);
  });
});
