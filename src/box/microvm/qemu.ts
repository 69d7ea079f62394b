/**
 * The QEMU command line of an a3s microVM: the `microvm` machine, our own kernel and init, the image
 * as a read-only erofs disk, the box's writable disk, a virtio-serial control port, and 9p shares for
 * volumes. The guest boots deferred (PROTOCOL.md): the kernel command line names only the image, and
 * the upper layer and volumes come with START, so a parked guest saved by the warm pool can be
 * restored into any box.
 */
import { readFileSync } from "node:fs";

export type Accelerator = "kvm" | "hvf" | "tcg";

export interface VmShare {
  tag: string;
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface VmConfig {
  qemu: string;
  kernel: string;
  initrd: string;
  rootfsImage: string;
  controlSocket: string;
  consoleLog: string;
  memoryMiB: number;
  cpus: number;
  accelerator: Accelerator;
  /**
   * The box's writable layer, an ext4 disk image of UPPER_DISK_BYTES (/dev/vdb in the guest). Without
   * one the guest's upper layer is a tmpfs and /dev/vdb is an empty null disk of the same size, so
   * the device list is the same either way.
   */
  upperDisk?: string;
  shares: VmShare[];
  /** Guest clock calibration hangs at random under TCG without it (FACTS.md). */
  tscKhz?: number;
  /** A QMP socket (the warm pool saves a guest through it). */
  qmpSocket?: string;
  /** A saved guest to restore instead of booting (`-incoming`). */
  incomingState?: string;
}

/** Every upper disk has this size: a restored guest knows /dev/vdb by the size it had when it booted. */
export const UPPER_DISK_BYTES = 4 * 1024 ** 3;
/** The guest device of the upper disk, for START's `upper`. */
export const UPPER_DEVICE = "/dev/vdb";
/**
 * QEMU's microvm machine has 8 virtio-mmio transports; the root and upper disks and the two
 * virtio-serial devices take four, so a box can have four 9p volumes.
 */
export const MAX_VOLUMES = 4;

export function kernelCommandLine(config: Pick<VmConfig, "accelerator" | "tscKhz">): string {
  const parts = [
    "console=hvc0",
    "reboot=t",
    "panic=-1",
    "quiet",
    "a3s.rootfs=/dev/vda",
    "a3s.defer=1",
    "a3s.port=a3s.0",
  ];
  if (config.tscKhz) parts.push(`tsc_early_khz=${config.tscKhz}`);
  // Under TCG: skip the LAPIC timer calibration (~0.2 s of boot), and trust the TSC so SMP guests
  // keep a fine-grained clock instead of falling back to jiffies.
  if (config.accelerator === "tcg") parts.push("nolapic_timer", "tsc=reliable");
  return parts.join(" ");
}

/** A path inside a QEMU option value: commas are doubled. */
function optionPath(path: string): string {
  return path.replaceAll(",", ",,");
}

/** A path for the shell that runs `-incoming exec:…`. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * The microvm machine. Under TCG the guest has no TSC-deadline timer and calibrates its LAPIC timer
 * against the PIT: without PIT and PIC no timer ever fires (`sleep 1` never returns). KVM guests
 * have TSC-deadline and boot faster without the legacy devices.
 */
export function machine(accelerator: Accelerator): string {
  const legacy = accelerator === "tcg" ? "pit=on,pic=on" : "pit=off,pic=off";
  return `microvm,acpi=off,x-option-roms=off,${legacy},rtc=on`;
}

export function qemuArgs(config: VmConfig): string[] {
  const args = [
    config.qemu,
    "-M",
    machine(config.accelerator),
    "-accel",
    config.accelerator,
    "-cpu",
    config.accelerator === "tcg" ? "max" : "host",
    "-m",
    String(config.memoryMiB),
    "-smp",
    String(config.cpus),
    "-nodefaults",
    "-no-user-config",
    "-nographic",
    "-no-reboot",
    "-kernel",
    config.kernel,
    "-initrd",
    config.initrd,
    "-append",
    kernelCommandLine(config),
    "-drive",
    `id=root,file=${optionPath(config.rootfsImage)},format=raw,if=none,readonly=on`,
    "-device",
    "virtio-blk-device,drive=root",
    ...(config.upperDisk
      ? ["-drive", `id=upper,file=${optionPath(config.upperDisk)},format=raw,if=none`]
      : ["-blockdev", `driver=null-co,node-name=upper,size=${UPPER_DISK_BYTES},read-zeroes=on`]),
    "-device",
    "virtio-blk-device,drive=upper",
    // The console gets a virtio-serial device of its own: sharing one with the control port, it can
    // appear after init has started (seen with -smp 2), leaving init without a console.
    "-device",
    "virtio-serial-device,max_ports=1",
    "-chardev",
    `file,id=con,path=${optionPath(config.consoleLog)}`,
    "-device",
    "virtconsole,chardev=con",
    "-device",
    "virtio-serial-device,id=ctl0",
    "-chardev",
    `socket,id=ctl,path=${optionPath(config.controlSocket)},server=on,wait=off`,
    "-device",
    "virtserialport,bus=ctl0.0,chardev=ctl,name=a3s.0",
  ];
  for (const share of config.shares) {
    args.push(
      "-fsdev",
      `local,id=${share.tag},path=${optionPath(share.source)},security_model=passthrough${share.readOnly ? ",readonly=on" : ""}`,
      "-device",
      `virtio-9p-device,fsdev=${share.tag},mount_tag=${share.tag}`,
    );
  }
  if (config.qmpSocket) args.push("-qmp", `unix:${optionPath(config.qmpSocket)},server=on,wait=off`);
  if (config.incomingState) args.push("-incoming", `exec:cat ${shellQuote(config.incomingState)}`);
  return args;
}

/** The host TSC frequency in kHz, for the guest's early calibration. */
export function hostTscKhz(): number | undefined {
  try {
    return Number(readFileSync("/sys/devices/system/cpu/cpu0/tsc_freq_khz", "utf8").trim()) || undefined;
  } catch {
    try {
      const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1];
      return mhz ? Math.round(Number(mhz) * 1000) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** -m in MiB from a byte limit: Docker's -m becomes the VM's memory (at least 64 MiB to boot). */
export function memoryMiB(bytes: number | undefined): number {
  return bytes ? Math.max(64, Math.ceil(bytes / (1024 * 1024))) : 256;
}

/** --cpus 1.5 → 2 vCPUs: a VM has whole CPUs. */
export function vcpus(quota: number | undefined, period: number | undefined): number {
  return quota && period ? Math.max(1, Math.ceil(quota / period)) : 1;
}
