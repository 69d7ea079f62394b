/**
 * Boots a3s-init for real: builds it, packs the initramfs, makes an erofs image of a busybox
 * rootfs, and runs QEMU's microvm machine under TCG (this machine's /dev/kvm cannot boot guests).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { buildInit } from "../../../scripts/build-init.ts";
import { initramfs } from "../initramfs.ts";
import { type Frame, FrameType, HostChannel } from "./host-channel.ts";

const QEMU = "qemu-system-x86_64";
const BUSYBOX = "/bin/busybox";
const APPLETS = [
  "sh",
  "echo",
  "cat",
  "ls",
  "id",
  "sleep",
  "hostname",
  "true",
  "false",
  "tty",
  "pwd",
  "wc",
  "ps",
  "stty",
  "kill",
  "date",
  "mkdir",
];
const BOOT_TIMEOUT_MS = 60_000;

export interface Guest {
  kernel: string;
  initrd: string;
  rootfs: string;
  dir: string;
}

export interface Volume {
  tag: string;
  hostPath: string;
  guestPath: string;
  readOnly?: boolean;
}

/** The kernel the tests boot: the kernel build's output, else one installed under the real ~/.a3s. */
export function findKernel(): string | undefined {
  if (existsSync("/work/kernel-build/vmlinux")) return "/work/kernel-build/vmlinux";
  // The test preload points HOME at a scratch directory; the installed kernels are in the real one.
  const installed = join(userInfo().homedir, ".a3s", "kernel");
  const versions = existsSync(installed) ? readdirSync(installed) : [];
  return versions.map((version) => join(installed, version, "vmlinux")).find((path) => existsSync(path));
}

/** Why the VM tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (process.platform !== "linux") return "microVMs need Linux";
  if (!findKernel()) return "no guest kernel (/work/kernel-build/vmlinux or ~/.a3s/kernel/*/vmlinux)";
  for (const tool of [QEMU, "mkfs.erofs", "make"]) if (!Bun.which(tool)) return `${tool} is not installed`;
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static)`;
  return undefined;
}

function run(command: string[]): void {
  const result = Bun.spawnSync(command, { stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${result.stderr.toString()}`);
}

/** A root with Debian's static busybox, a few applets and the users the tests run as. */
function writeBusyboxRoot(root: string): void {
  for (const dir of ["bin", "etc", "tmp", "root"]) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, "bin", "busybox"), readFileSync(BUSYBOX), { mode: 0o755 });
  for (const applet of APPLETS) symlinkSync("busybox", join(root, "bin", applet));
  writeFileSync(
    join(root, "etc", "passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
  );
  writeFileSync(join(root, "etc", "group"), "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
}

export async function prepareGuest(dir: string, kernel = findKernel()): Promise<Guest> {
  if (!kernel) throw new Error("no guest kernel");
  const init = await buildInit(join(dir, "build"));
  const initrd = join(dir, "initramfs.cpio");
  writeFileSync(initrd, initramfs(readFileSync(init)));
  const root = join(dir, "root");
  writeBusyboxRoot(root);
  const rootfs = join(dir, "rootfs.erofs");
  run(["mkfs.erofs", "--quiet", "--all-root", "-T0", rootfs, root]);
  return { kernel, initrd, rootfs, dir };
}

/** The host's TSC rate, so the guest kernel skips calibrating it (slow under TCG). */
function tscKhz(): number {
  const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
  return Math.round(Number(mhz ?? 2000) * 1000);
}

function qemuArgs(guest: Guest, name: string, options: BootOptions): string[] {
  const volumes = options.volumes ?? [];
  const append = [
    "console=hvc0 reboot=t panic=-1",
    `tsc_early_khz=${tscKhz()}`,
    "quiet a3s.rootfs=/dev/vda a3s.upper=tmpfs a3s.port=a3s.0",
    ...(options.defer ? ["a3s.defer=1"] : []),
    ...(volumes.length && !options.defer
      ? [`a3s.volumes=${volumes.map((v) => `${v.tag}:${v.guestPath}:${v.readOnly ? "ro" : "rw"}`).join(",")}`]
      : []),
    options.append ?? "",
  ].join(" ");
  const volumeArgs = volumes.flatMap((volume, index) => [
    "-fsdev",
    `local,id=fs${index},path=${volume.hostPath},security_model=none${volume.readOnly ? ",readonly=on" : ""}`,
    "-device",
    `virtio-9p-device,fsdev=fs${index},mount_tag=${volume.tag}`,
  ]);
  // pit=on,pic=on: under TCG the guest has no TSC-deadline timer, so the kernel calibrates its
  // LAPIC timer against the PIT's IRQ 0. Without PIT and PIC, calibration fails ("APIC timer
  // disabled due to verification failure") and no timer ever fires: sleep(1) never returns. KVM
  // guests have TSC-deadline and can drop both.
  // biome-ignore format: one QEMU option with its value per line
  return [
    QEMU,
    "-M", "microvm,acpi=off,x-option-roms=off,pit=on,pic=on,rtc=on",
    "-accel", "tcg", "-cpu", "max", "-m", "256", "-smp", "1",
    "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
    "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", append,
    "-drive", `id=root,file=${guest.rootfs},format=raw,if=none,readonly=on`,
    "-device", "virtio-blk-device,drive=root",
    ...(options.upperDisk
      ? ["-drive", `id=upper,file=${options.upperDisk},format=raw,if=none`, "-device", "virtio-blk-device,drive=upper"]
      : []),
    "-device", "virtio-serial-device",
    "-chardev", `file,id=con,path=${join(guest.dir, `${name}.console`)}`,
    "-device", "virtconsole,chardev=con",
    "-chardev", `socket,id=ctl,path=${join(guest.dir, `${name}.sock`)},server=on,wait=off`,
    "-device", "virtserialport,chardev=ctl,name=a3s.0",
    ...volumeArgs,
    ...(options.qmp ? ["-qmp", `unix:${join(guest.dir, `${name}.qmp`)},server=on,wait=off`] : []),
    ...(options.incoming ? ["-incoming", `exec:cat ${options.incoming}`] : []),
  ];
}

export interface BootOptions {
  /** 9p shares; on the command line unless the boot is deferred (then START names them). */
  volumes?: Volume[];
  /** More kernel command line */
  append?: string;
  /** a3s.defer=1: only the image before READY, the rest at START of stream 1. */
  defer?: boolean;
  /** A disk image attached as /dev/vdb. */
  upperDisk?: string;
  /** A QMP socket at <dir>/<name>.qmp. */
  qmp?: boolean;
  /** Restore this saved guest instead of booting (the device list must match the saved one). */
  incoming?: string;
}

export class MicroVm {
  bootMs = Number.NaN;

  private constructor(
    public channel: HostChannel,
    readonly qemu: Subprocess<"ignore", "pipe", "pipe">,
    private readonly startedAt: number,
    private readonly consolePath: string,
    private readonly guestDir: string,
  ) {}

  /** Starts QEMU and connects to the control port, without waiting for init. */
  static async launch(guest: Guest, name: string, options: BootOptions = {}): Promise<MicroVm> {
    const startedAt = performance.now();
    const args = qemuArgs(guest, name, options);
    const qemu = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const consolePath = join(guest.dir, `${name}.console`);
    try {
      const channel = await HostChannel.connect(join(guest.dir, `${name}.sock`), 10_000);
      return new MicroVm(channel, qemu, startedAt, consolePath, guest.dir);
    } catch (error) {
      qemu.kill("SIGKILL");
      throw new Error(`${error}\nQEMU stderr:\n${await new Response(qemu.stderr).text()}`);
    }
  }

  /** Starts QEMU and waits for init's READY. */
  static async boot(guest: Guest, name: string, options: BootOptions = {}): Promise<MicroVm> {
    const vm = await MicroVm.launch(guest, name, options);
    try {
      vm.bootMs = (await vm.ready()).at - vm.startedAt;
      return vm;
    } catch (error) {
      vm.kill();
      const stderr = await new Response(vm.qemu.stderr).text();
      throw new Error(`${error}\nQEMU stderr:\n${stderr}\nguest console:\n${vm.console()}`);
    }
  }

  /** The READY frame (the first one, or the next after `after` frames), unless QEMU exits first. */
  ready(after = 0): Promise<Frame> {
    return Promise.race([
      this.channel.waitFor(
        (frame) => frame.type === FrameType.READY && this.channel.frames.indexOf(frame) >= after,
        BOOT_TIMEOUT_MS,
        "READY",
      ),
      this.qemu.exited.then((code) => Promise.reject(new Error(`QEMU exited with ${code} before READY`))),
    ]);
  }

  /** Connects a new host to the control port (after the last one closed it). */
  async reconnect(name: string): Promise<void> {
    this.channel = await HostChannel.connect(join(this.guestDir, `${name}.sock`), 10_000);
  }

  /** The guest's console (kernel warnings and init's own log lines). */
  console(): string {
    return existsSync(this.consolePath) ? readFileSync(this.consolePath, "utf8") : "";
  }

  /** QEMU's exit code once the guest ends by itself, or undefined if it did not within `timeoutMs`. */
  async exited(timeoutMs: number): Promise<number | undefined> {
    return Promise.race([this.qemu.exited, Bun.sleep(timeoutMs).then(() => undefined)]);
  }

  kill(): void {
    this.channel.close();
    if (this.qemu.exitCode === null) this.qemu.kill("SIGKILL");
  }
}
