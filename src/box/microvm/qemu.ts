/**
 * The QEMU command line of an a3s microVM: the `microvm` machine, our own kernel and init, the image
 * as a read-only erofs disk, a virtio-serial control port, and 9p shares for volumes.
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
  shares: VmShare[];
  /** Guest clock calibration hangs at random under TCG without it (FACTS.md). */
  tscKhz?: number;
}

/** The kernel command line is capped at 2 KB; volumes are the only part that grows. */
const MAX_CMDLINE = 2000;

export function kernelCommandLine(config: VmConfig): string {
  const parts = [
    "console=hvc0",
    "reboot=t",
    "panic=-1",
    "quiet",
    "a3s.rootfs=/dev/vda",
    "a3s.upper=tmpfs",
    "a3s.port=a3s.0",
  ];
  if (config.tscKhz) parts.push(`tsc_early_khz=${config.tscKhz}`);
  // Under TCG: skip the LAPIC timer calibration (~0.2 s of boot), and trust the TSC so SMP guests
  // keep a fine-grained clock instead of falling back to jiffies.
  if (config.accelerator === "tcg") parts.push("nolapic_timer", "tsc=reliable");
  if (config.shares.length > 0) {
    parts.push(
      `a3s.volumes=${config.shares.map((s) => `${s.tag}:${s.destination}:${s.readOnly ? "ro" : "rw"}`).join(",")}`,
    );
  }
  const line = parts.join(" ");
  if (line.length > MAX_CMDLINE)
    throw new Error(`kernel command line too long (${line.length} bytes): fewer volumes`);
  return line;
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
    `id=root,file=${config.rootfsImage},format=raw,if=none,readonly=on`,
    "-device",
    "virtio-blk-device,drive=root",
    // The console gets a virtio-serial device of its own: sharing one with the control port, it can
    // appear after init has started (seen with -smp 2), leaving init without a console.
    "-device",
    "virtio-serial-device,max_ports=1",
    "-chardev",
    `file,id=con,path=${config.consoleLog}`,
    "-device",
    "virtconsole,chardev=con",
    "-device",
    "virtio-serial-device,id=ctl0",
    "-chardev",
    `socket,id=ctl,path=${config.controlSocket},server=on,wait=off`,
    "-device",
    "virtserialport,bus=ctl0.0,chardev=ctl,name=a3s.0",
  ];
  for (const share of config.shares) {
    args.push(
      "-fsdev",
      `local,id=${share.tag},path=${share.source},security_model=passthrough${share.readOnly ? ",readonly=on" : ""}`,
      "-device",
      `virtio-9p-device,fsdev=${share.tag},mount_tag=${share.tag}`,
    );
  }
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
