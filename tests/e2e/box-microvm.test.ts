/**
 * microVM boxes through the compiled binary: a3s's own kernel and init under QEMU (TCG here: this
 * machine's KVM cannot boot guests), with the same lifecycle as sandbox boxes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
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

  test("a box keeps its files on its own disk across stop and start; a snapshot copies the disk", async () => {
    const script = "cat /kept 2>/dev/null; echo kept > /kept; rm -f /etc/passwd; ls /etc | tr '\\n' ' '";
    const first = expectExit(
      await box(["run", "--name", "disk", "--isolation", "microvm", image, "sh", "-c", script]),
      0,
    );
    expect(first.stdout).not.toContain("passwd");
    expect(expectExit(await box(["start", "-a", "disk"]), 0).stdout).toMatch(/^kept\n/);
    const [record] = expectExit(await box(["inspect", "disk"]), 0).json<Array<{ Id: string }>>();
    const disk = join(home, "boxes", record?.Id ?? "", "upper.ext4");
    expect(statSync(disk).size).toBe(4 * 1024 ** 3);
    expect(statSync(disk).blocks * 512).toBeLessThan(32 * 1024 ** 2); // sparse

    const id = expectExit(await box(["snapshot", "create", "--name", "vm-snap", "disk"]), 0).stdout.trim();
    const [described] = expectExit(await box(["snapshot", "inspect", "vm-snap"]), 0).json<
      Array<{ RootfsMode: string; Isolation: string }>
    >();
    expect(described).toMatchObject({ RootfsMode: "disk", Isolation: "microvm" });
    expectExit(await box(["rm", "disk"]), 0);
    expectExit(await box(["snapshot", "restore", "vm-snap", "--name", "disk2"]), 0);
    const restored = expectExit(await box(["start", "-a", "disk2"]), 0).stdout;
    expect(restored).toMatch(/^kept\n/);
    expect(restored).not.toContain("passwd");
    expectExit(await box(["rm", "disk2"]), 0);

    // A damaged snapshot is refused before a box is made of it.
    const saved = join(home, "snapshots", id, "upper.ext4");
    truncateSync(saved, 1024 ** 2);
    expect(expectExit(await box(["snapshot", "restore", "vm-snap", "--name", "bad"]), 6).stderr).toContain(
      "truncated",
    );
    rmSync(saved);
    expect(expectExit(await box(["snapshot", "restore", "vm-snap", "--name", "bad"]), 3).stderr).toContain(
      "missing",
    );
    expect(expectExit(await box(["ps", "-a", "-q"]), 0).stdout).toBe("");
    expect(readdirSync(join(home, "boxes"))).toEqual([]);
    expectExit(await box(["snapshot", "rm", "vm-snap"]), 0);
  });

  describe("bad input", () => {
    test("no guest kernel: a clear error with the way to build one, and no box left", async () => {
      const bare = tempHome();
      await a3s(["box", "pull", "-q", image], { home: bare });
      const result = await a3s(["box", "run", "--isolation", "microvm", image, "true"], { home: bare });
      expectExit(result, 125);
      expect(result.stderr).toContain("no a3s guest kernel");
      expect(result.stderr).toContain("build-kernel");
      expect(expectExit(await a3s(["box", "ps", "-a", "-q"], { home: bare }), 0).stdout).toBe("");
      const missing = await a3s(["box", "run", "--isolation", "microvm", image, "true"], {
        home: bare,
        env: { A3S_KERNEL: "/nonexistent/vmlinux" },
      });
      expect(expectExit(missing, 125).stderr).toContain("/nonexistent/vmlinux");
    });

    test("no QEMU: a clear error naming it", async () => {
      const result = await a3s(
        ["box", "create", "--isolation", "microvm", "--pull", "never", image, "true"],
        {
          home,
          env: { PATH: "/nonexistent", A3S_KERNEL: kernel },
        },
      );
      expect(expectExit(result, 125).stderr).toContain("qemu-system-x86_64 is not installed");
    });
  });
});
