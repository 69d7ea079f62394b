/**
 * a3s-init under QEMU (TCG): boots the real kernel with the real initramfs and talks the real
 * protocol. Skipped, with the reason printed, where there is no kernel or no QEMU.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveGuest } from "../../src/box/microvm/save-guest.ts";
import { FrameType, type ProcessSpec } from "./testing/host-channel.ts";
import { type BootOptions, type Guest, MicroVm, prepareGuest, skipReason } from "./testing/microvm.ts";

setDefaultTimeout(120_000);

const skip = skipReason();
if (skip) console.log(`skipping the a3s-init microVM tests: ${skip}`);

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const VM_END_MS = 10_000;
let dir: string;
let guest: Guest;
const vms: MicroVm[] = [];

beforeAll(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "a3s-init-"));
  guest = await prepareGuest(dir);
});

afterAll(() => {
  for (const vm of vms) vm.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function boot(name: string, options: BootOptions = {}): Promise<MicroVm> {
  const vm = await MicroVm.boot(guest, name, options);
  vms.push(vm);
  console.log(`${name}: boot to READY ${vm.bootMs.toFixed(0)} ms`);
  return vm;
}

function spec(args: string[], more: Partial<ProcessSpec> = {}): ProcessSpec {
  return { args, env: [PATH], cwd: "/", uid: 0, gid: 0, groups: [], tty: false, stdin: false, ...more };
}

function json(payload: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(payload));
}

/** A sparse ext4 image, as the host makes a box's upper disk. */
function ext4Disk(name: string, megabytes = 64): string {
  const path = join(dir, name);
  const result = Bun.spawnSync(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=1", path, `${megabytes}M`]);
  if (result.exitCode !== 0) throw new Error(`mkfs.ext4 failed: ${result.stderr}`);
  return path;
}

/** A file in an ext4 image, read without mounting it. */
function readFromDisk(disk: string, path: string): string {
  return Bun.spawnSync(["debugfs", "-R", `cat ${path}`, disk], { stderr: "ignore" }).stdout.toString();
}

describe.skipIf(skip !== undefined)("a3s-init in a microVM", () => {
  test("runs the main process, reports its output and exit, then the VM ends", async () => {
    const vm = await boot("main");
    const started = performance.now();
    vm.channel.start(
      1,
      spec(["sh", "-c", "echo out; echo err >&2; hostname; exit 3"], { hostname: "box-one" }),
    );
    const outcome = await vm.channel.outcome(1);
    console.log(`main: START to EXIT ${(outcome.at - started).toFixed(0)} ms`);
    expect(outcome).toMatchObject({ stdout: "out\nbox-one\n", stderr: "err\n", exit: { code: 3 } });
    expect(await vm.exited(VM_END_MS)).toBeDefined();
  });

  test("a command that is not there is ERROR 127, and ends the VM", async () => {
    const vm = await boot("missing");
    vm.channel.start(1, spec(["nosuchcmd"]));
    const outcome = await vm.channel.outcome(1);
    expect(outcome.error).toEqual({ code: 127, message: "nosuchcmd: executable file not found in $PATH" });
    expect(await vm.exited(VM_END_MS)).toBeDefined();
  });

  test("a root that cannot be assembled is ERROR on stream 0 instead of READY", async () => {
    const vm = await MicroVm.launch(guest, "broken", { append: "a3s.volumes=nosuchtag:/data:rw" });
    vms.push(vm);
    const error = await vm.channel.waitFor((frame) => frame.type === FrameType.ERROR, 60_000, "ERROR");
    expect(error.stream).toBe(0);
    expect(json(error.payload)).toMatchObject({ code: 125, message: expect.stringContaining("nosuchtag") });
    expect(vm.channel.frames.some((frame) => frame.type === FrameType.READY)).toBe(false);
    expect(await vm.exited(VM_END_MS)).toBeDefined();
  });

  test("SIGTERM to PID 1 from inside the box goes to the main process", async () => {
    const vm = await boot("term");
    vm.channel.start(1, spec(["sleep", "300"]));
    vm.channel.start(2, spec(["kill", "-TERM", "1"]));
    expect((await vm.channel.outcome(1)).exit).toEqual({ signal: 15 });
    expect(await vm.exited(VM_END_MS)).toBeDefined();
  });

  test("SHUTDOWN ends the VM", async () => {
    const vm = await boot("shutdown");
    vm.channel.start(1, spec(["sleep", "300"]));
    vm.channel.send(FrameType.SHUTDOWN, 0);
    expect(await vm.exited(VM_END_MS)).toBeDefined();
  });

  test("the VM ends when the host closes the control port", async () => {
    const vm = await boot("hangup");
    vm.channel.start(1, spec(["sleep", "300"]));
    vm.channel.close();
    expect(await vm.exited(VM_END_MS)).toBeDefined();
  });

  describe("while the main process runs", () => {
    let vm: MicroVm;
    let volume: string;

    beforeAll(async () => {
      if (skip) return;
      volume = join(dir, "volume");
      const readOnly = join(dir, "read-only");
      mkdirSync(volume);
      mkdirSync(readOnly);
      writeFileSync(join(volume, "from-host"), "host\n");
      vm = await boot("exec", {
        volumes: [
          { tag: "vol0", hostPath: volume, guestPath: "/data" },
          { tag: "vol1", hostPath: readOnly, guestPath: "/mnt/ro", readOnly: true },
        ],
      });
      vm.channel.start(1, spec(["sleep", "300"]));
    });

    test("an exec stream runs beside it and reports its own EXIT", async () => {
      const started = performance.now();
      vm.channel.start(2, spec(["sh", "-c", "echo exec; exit 0"]));
      const outcome = await vm.channel.outcome(2);
      console.log(`exec: START to EXIT ${(outcome.at - started).toFixed(0)} ms`);
      expect(outcome).toMatchObject({ stdout: "exec\n", stderr: "", exit: { code: 0 } });
    });

    test("STDIN reaches the process and STDIN_EOF closes it", async () => {
      vm.channel.start(3, spec(["cat"], { stdin: true }));
      vm.channel.send(FrameType.STDIN, 3, "hello\n");
      await vm.channel.waitFor(
        (frame) => frame.stream === 3 && frame.type === FrameType.STDOUT,
        10_000,
        "echo",
      );
      vm.channel.send(FrameType.STDIN_EOF, 3);
      expect(await vm.channel.outcome(3)).toMatchObject({ stdout: "hello\n", exit: { code: 0 } });
    });

    test("env, a working directory that init creates, another user and supplementary groups", async () => {
      const script = "echo $GREETING; pwd; id";
      vm.channel.start(
        4,
        spec(["sh", "-c", script], {
          env: [PATH, "GREETING=hi there"],
          cwd: "/home/nobody/work",
          uid: 65534,
          gid: 65534,
          groups: [5, 65534],
        }),
      );
      const outcome = await vm.channel.outcome(4);
      expect(outcome.stdout).toBe(
        "hi there\n/home/nobody/work\nuid=65534(nobody) gid=65534(nogroup) groups=5(tty),65534(nogroup)\n",
      );
    });

    test("a terminal joins stdout and stderr and answers to RESIZE", async () => {
      vm.channel.start(
        5,
        spec(["sh", "-c", "read line; tty; echo err >&2; stty size"], { tty: true, stdin: true }),
      );
      vm.channel.send(FrameType.RESIZE, 5, { cols: 100, rows: 40 });
      vm.channel.send(FrameType.STDIN, 5, "go\n");
      const outcome = await vm.channel.outcome(5);
      expect(outcome.stderr).toBe("");
      expect(outcome.stdout).toContain("/dev/pts/");
      expect(outcome.stdout).toContain("err\r\n");
      expect(outcome.stdout).toContain("40 100\r\n");
      expect(outcome.exit).toEqual({ code: 0 });
    });

    test("9p volumes are mounted, writable or read-only", async () => {
      vm.channel.start(
        6,
        spec(["sh", "-c", "cat /data/from-host; echo guest > /data/from-guest; echo x > /mnt/ro/f"]),
      );
      const outcome = await vm.channel.outcome(6);
      expect(outcome.stdout).toBe("host\n");
      expect(outcome.stderr).toContain("Read-only file system");
      expect(outcome.exit?.code).not.toBe(0);
      expect(readFileSync(join(volume, "from-guest"), "utf8")).toBe("guest\n");
    });

    test("EXIT does not wait for a background child that keeps the output open", async () => {
      const started = performance.now();
      vm.channel.start(7, spec(["sh", "-c", "sleep 300 & echo started"]));
      const outcome = await vm.channel.outcome(7);
      expect(outcome).toMatchObject({ stdout: "started\n", exit: { code: 0 } });
      expect(outcome.at - started).toBeLessThan(5_000);
    });

    test("orphans are reaped", async () => {
      vm.channel.start(8, spec(["sh", "-c", "sleep 0.1 &"]));
      await vm.channel.outcome(8);
      await Bun.sleep(500);
      vm.channel.start(9, spec(["ps", "-o", "stat,args"]));
      const { stdout } = await vm.channel.outcome(9);
      expect(stdout).not.toMatch(/^Z/m);
    });

    test("megabytes of output and of stdin arrive whole", async () => {
      vm.channel.start(10, spec(["cat", "/bin/busybox"]));
      const outcome = await vm.channel.outcome(10);
      expect(outcome.exit).toEqual({ code: 0 });
      expect(Buffer.from(vm.channel.bytes(10, FrameType.STDOUT)).equals(readFileSync("/bin/busybox"))).toBe(
        true,
      );

      const input = new Uint8Array(3 * 1024 * 1024).map((_, index) => index % 251);
      vm.channel.start(11, spec(["wc", "-c"], { stdin: true }));
      for (let offset = 0; offset < input.length; offset += 256 * 1024) {
        vm.channel.send(FrameType.STDIN, 11, input.subarray(offset, offset + 256 * 1024));
      }
      vm.channel.send(FrameType.STDIN_EOF, 11);
      expect((await vm.channel.outcome(11)).stdout.trim()).toBe(String(input.length));
    });

    test("a START for a running stream is an ERROR; SIGNAL reaches an exec stream", async () => {
      const channel = vm.channel;
      channel.start(12, spec(["sleep", "300"]));
      channel.start(12, spec(["true"]));
      const error = await channel.waitFor(
        (f) => f.stream === 12 && f.type === FrameType.ERROR,
        10_000,
        "ERROR",
      );
      expect(json(error.payload)).toMatchObject({ code: 125 });
      channel.send(FrameType.SIGNAL, 12, { signal: 15 });
      const exit = await channel.waitFor((f) => f.stream === 12 && f.type === FrameType.EXIT, 10_000, "EXIT");
      expect(json(exit.payload)).toEqual({ signal: 15 });
    });

    test("SIGNAL 9 ends the main process, then the VM", async () => {
      vm.channel.send(FrameType.SIGNAL, 1, { signal: 9 });
      expect((await vm.channel.outcome(1)).exit).toEqual({ signal: 9 });
      expect(await vm.exited(VM_END_MS)).toBeDefined();
    });
  });
});

describe.skipIf(skip !== undefined || !Bun.which("mkfs.ext4") || !Bun.which("debugfs"))(
  "a deferred boot (a3s.defer=1)",
  () => {
    test("the parked guest outlives its host, says READY to the next, and assembles the root at START", async () => {
      const disk = ext4Disk("parked.ext4");
      const volume = join(dir, "parked-volume");
      mkdirSync(volume);
      writeFileSync(join(volume, "in"), "from host\n");
      const vm = await boot("parked", {
        defer: true,
        upperDisk: disk,
        volumes: [{ tag: "vol0", hostPath: volume, guestPath: "/ignored" }],
      });
      vm.channel.close();
      await Bun.sleep(100);
      await vm.reconnect("parked");
      await vm.ready();

      vm.channel.start(2, spec(["true"]));
      const early = await vm.channel.outcome(2);
      expect(early.error).toMatchObject({ code: 125, message: expect.stringContaining("has not started") });

      const script = "date +%s; cat /data/in; echo kept > /kept; grep -c ' /data 9p ' /proc/mounts";
      vm.channel.start(
        1,
        spec(["sh", "-c", script], {
          upper: "/dev/vdb",
          volumes: [{ tag: "vol0", path: "/data" }],
          time: 1_700_000_000_000,
          seed: "5a".repeat(32),
        }),
      );
      const outcome = await vm.channel.outcome(1);
      expect(outcome.exit).toEqual({ code: 0 });
      const [seconds, ...rest] = outcome.stdout.trim().split("\n");
      expect(Number(seconds) - 1_700_000_000).toBeLessThan(5);
      expect(rest).toEqual(["from host", "1"]);
      expect(await vm.exited(VM_END_MS)).toBeDefined();
      expect(readFromDisk(disk, "/upper/kept")).toBe("kept\n");
    });

    test("an upper layer that cannot be mounted is an ERROR on stream 1, then the VM ends", async () => {
      const vm = await boot("bad-upper", { defer: true });
      vm.channel.start(1, spec(["true"], { upper: "/dev/nosuch" }));
      const outcome = await vm.channel.outcome(1);
      expect(outcome.error).toMatchObject({ code: 125, message: expect.stringContaining("/dev/nosuch") });
      expect(await vm.exited(VM_END_MS)).toBeDefined();
    });

    test("saved while parked and restored: the guest answers its new host, on another disk", async () => {
      // Booted with an empty placeholder disk; restored with a real one of the same size.
      const placeholder = join(dir, "placeholder.img");
      writeFileSync(placeholder, "");
      Bun.spawnSync(["truncate", "-s", "64M", placeholder]);
      const saved = await boot("saved", { defer: true, upperDisk: placeholder, qmp: true });
      saved.channel.close();
      const state = join(dir, "saved.state");
      await saveGuest(join(dir, "saved.qmp"), join(dir, "saved.mig"), state, saved.qemu);
      expect(await saved.exited(VM_END_MS)).toBeDefined();

      const disk = ext4Disk("restored.ext4");
      const started = performance.now();
      const vm = await MicroVm.launch(guest, "restored", { defer: true, upperDisk: disk, incoming: state });
      vms.push(vm);
      const ready = await vm.ready();
      vm.channel.start(1, spec(["sh", "-c", "echo restored > /here; echo ok"], { upper: "/dev/vdb" }));
      const outcome = await vm.channel.outcome(1);
      console.log(
        `restored: READY ${(ready.at - started).toFixed(0)} ms, EXIT ${(outcome.at - started).toFixed(0)} ms`,
      );
      expect(outcome).toMatchObject({ stdout: "ok\n", exit: { code: 0 } });
      expect(await vm.exited(VM_END_MS)).toBeDefined();
      expect(readFromDisk(disk, "/upper/here")).toBe("restored\n");
    });
  },
);
