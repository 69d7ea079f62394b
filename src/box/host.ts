/**
 * What this machine offers the box runtime: KVM, QEMU, rootfs image tools, OCI runtimes and cgroups,
 * and from those the default isolation. Parsers are pure functions of file contents or command output;
 * probes read the machine through a HostSystem so tests can describe any machine. Probes never throw:
 * a failure is part of the answer.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The few ways the probes touch the machine. */
export interface HostSystem {
  arch: string;
  readText(path: string): string | undefined;
  exists(path: string): boolean;
  /** Undefined when the file opens read/write, otherwise the errno code (EACCES, ENOENT, …). */
  openReadWrite(path: string): string | undefined;
  /** Absolute path of an executable, or undefined when it is not installed. */
  which(name: string): string | undefined;
  run(file: string, args: readonly string[]): CommandResult;
}

export interface CommandResult {
  ok: boolean;
  /** stdout, or stderr when the tool printed nothing on stdout. */
  output: string;
  error?: string;
}

const VERSION_TIMEOUT_MS = 5000;

/**
 * Debian installs mkfs.* and friends in /usr/sbin, which is not on an ordinary user's PATH although
 * building an image file needs no privileges; look there too.
 */
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

export function realHost(env: NodeJS.ProcessEnv): HostSystem {
  const searchPath = [env.PATH ?? "", ...SBIN_DIRS].filter((dir) => dir !== "").join(":");
  return {
    arch: process.arch,
    readText(path) {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
    exists: existsSync,
    openReadWrite(path) {
      try {
        closeSync(openSync(path, "r+"));
        return undefined;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? String(err);
      }
    },
    which: (name) => Bun.which(name, { PATH: searchPath }) ?? undefined,
    run(file, args) {
      const result = spawnSync(file, [...args], { encoding: "utf8", timeout: VERSION_TIMEOUT_MS, env });
      const output = result.stdout?.trim() ? result.stdout : (result.stderr ?? "");
      if (result.error) return { ok: false, output, error: result.error.message };
      if (result.status !== 0) {
        return { ok: false, output, error: `exited with ${result.status ?? result.signal}` };
      }
      return { ok: true, output };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Executables and their versions

export interface Tool {
  name: string;
  path: string | null;
  version: string | null;
  /** Why the version could not be read although the tool exists. */
  error?: string;
}

/**
 * The version in a tool's first output line: "QEMU emulator version 7.2.0 (Debian …)" → "7.2.0",
 * "crun version 1.8.1" → "1.8.1", "runsc version release-20230102.0" → "release-20230102.0".
 */
export function parseVersionLine(output: string): string | undefined {
  const first = output.trimStart().split("\n", 1)[0] ?? "";
  return /\bversion\s+(\S+)/i.exec(first)?.[1];
}

/** Finds an executable and, when versionArgs are given, reads its version. */
export function probeTool(host: HostSystem, name: string, versionArgs?: readonly string[]): Tool {
  const path = host.which(name);
  if (path === undefined) return { name, path: null, version: null };
  if (versionArgs === undefined) return { name, path, version: null };
  const result = host.run(path, versionArgs);
  if (!result.ok) {
    return { name, path, version: null, error: `${name} ${versionArgs.join(" ")}: ${result.error}` };
  }
  const version = parseVersionLine(result.output);
  if (version === undefined) {
    const first = result.output.trim().split("\n", 1)[0];
    return { name, path, version: null, error: `unrecognised version output: ${first || "(empty)"}` };
  }
  return { name, path, version };
}

/** QEMU's system emulator for the host's own architecture: microVMs are never cross-architecture. */
export function qemuBinaryFor(arch: string): string {
  return arch === "arm64" ? "qemu-system-aarch64" : "qemu-system-x86_64";
}

export function probeQemu(host: HostSystem): Tool {
  return probeTool(host, qemuBinaryFor(host.arch), ["--version"]);
}

/** Tools that build rootfs images from a directory tree without mounting anything. */
export const ROOTFS_TOOLS = ["mkfs.erofs", "mkfs.ext4"] as const;

export function probeRootfsTools(host: HostSystem): Tool[] {
  return ROOTFS_TOOLS.map((name) => probeTool(host, name));
}

/** In order of preference: the first one found is the default. */
export const OCI_RUNTIMES = ["crun", "runc", "runsc"] as const;

export function probeRuntimes(host: HostSystem): Tool[] {
  return OCI_RUNTIMES.map((name) => probeTool(host, name, ["--version"]));
}

export function defaultRuntime(runtimes: readonly Tool[]): string | null {
  return runtimes.find((runtime) => runtime.path !== null)?.name ?? null;
}

// ---------------------------------------------------------------------------------------------
// KVM

export type KvmModule = "kvm_intel" | "kvm_amd" | "kvm_pvm";

export interface KvmFacts {
  arch: string;
  /** "ok" when /dev/kvm opens read/write, "missing", or the errno code of the failed open. */
  device: string;
  /** The CPU's hardware virtualisation flag (x86 only); null when /proc/cpuinfo shows neither. */
  cpuExtension: "vmx" | "svm" | null;
  /** cpuinfo's `hypervisor` flag: this machine is itself a virtual machine. */
  hypervisorGuest: boolean;
  /** The KVM implementation loaded, from /sys/module; null when none of the known ones is. */
  module: KvmModule | null;
}

export interface KvmStatus extends KvmFacts {
  usable: boolean;
  reason: string;
  canBootGuest: string;
}

/** The flags of the first processor in /proc/cpuinfo (x86 calls them `flags`, arm64 `Features`). */
export function parseCpuFlags(cpuinfo: string): Set<string> {
  const line = /^(?:flags|Features)\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? "";
  return new Set(line.trim().split(/\s+/).filter(Boolean));
}

export function cpuVirtualization(
  flags: ReadonlySet<string>,
): Pick<KvmFacts, "cpuExtension" | "hypervisorGuest"> {
  const cpuExtension = flags.has("vmx") ? "vmx" : flags.has("svm") ? "svm" : null;
  return { cpuExtension, hypervisorGuest: flags.has("hypervisor") };
}

const FALLBACK = "ordinary guest kernels cannot boot, microVMs could only use TCG emulation";

/** Whether /dev/kvm can run an ordinary (non-PVM) guest kernel with hardware acceleration. */
export function kvmVerdict(facts: KvmFacts): { usable: boolean; reason: string } {
  if (facts.device === "missing") {
    return { usable: false, reason: "/dev/kvm does not exist: KVM is not available on this machine" };
  }
  if (facts.device !== "ok") {
    const hint = facts.device === "EACCES" ? "; add your user to the kvm group" : "";
    return { usable: false, reason: `/dev/kvm cannot be opened read/write (${facts.device})${hint}` };
  }
  const noExtension = facts.arch === "x64" && facts.cpuExtension === null;
  // PVM (kvm_pvm) runs only guests built for it; it is how nested KVM is offered without vmx/svm.
  if (facts.module === "kvm_pvm") {
    const cpu = noExtension ? " and the CPU exposes no vmx/svm" : "";
    return {
      usable: false,
      reason: `/dev/kvm is provided by kvm_pvm (nested paravirtualised KVM)${cpu}; ${FALLBACK}`,
    };
  }
  if (noExtension) {
    const nested = facts.hypervisorGuest ? " (this is a VM without nested virtualisation)" : "";
    return {
      usable: false,
      reason: `/dev/kvm is present but the CPU exposes no vmx/svm${nested}; ${FALLBACK}`,
    };
  }
  const via = facts.module ?? facts.cpuExtension ?? "KVM";
  return { usable: true, reason: `/dev/kvm is usable (${via}${facts.hypervisorGuest ? ", nested" : ""})` };
}

const KVM_MODULES: readonly KvmModule[] = ["kvm_pvm", "kvm_intel", "kvm_amd"];

/** Only a boot of a3s's own guest kernel proves KVM works; until that kernel exists we cannot know. */
const BOOT_TEST_PENDING = "unknown: no boot test yet; it needs a3s's guest kernel, which is not built yet";

export function probeKvm(host: HostSystem): KvmStatus {
  const openError = host.openReadWrite("/dev/kvm");
  const facts: KvmFacts = {
    arch: host.arch,
    device: openError === undefined ? "ok" : openError === "ENOENT" ? "missing" : openError,
    ...cpuVirtualization(parseCpuFlags(host.readText("/proc/cpuinfo") ?? "")),
    module: KVM_MODULES.find((name) => host.exists(`/sys/module/${name}`)) ?? null,
  };
  return { ...facts, ...kvmVerdict(facts), canBootGuest: BOOT_TEST_PENDING };
}

// ---------------------------------------------------------------------------------------------
// cgroups

export interface CgroupMount {
  version: 1 | 2;
  path: string;
  /** v1: the controllers bound to this hierarchy; v2: empty (they are listed in cgroup.controllers). */
  controllers: string[];
}

export type CgroupLayout = "v2" | "v1" | "hybrid" | "none";

export interface CgroupStatus {
  layout: CgroupLayout;
  v1Controllers: string[];
  v2Path: string | null;
  v2Controllers: string[];
  /** Which hierarchy enforces memory and cpu limits; null when neither can. */
  memoryLimit: "v1" | "v2" | null;
  cpuLimit: "v1" | "v2" | null;
}

/** Controllers a v1 hierarchy can carry; its other super options (rw, name=systemd, xattr…) are not. */
const V1_CONTROLLERS = new Set([
  "blkio",
  "cpu",
  "cpuacct",
  "cpuset",
  "devices",
  "freezer",
  "hugetlb",
  "memory",
  "misc",
  "net_cls",
  "net_prio",
  "perf_event",
  "pids",
  "rdma",
]);

/** mountinfo escapes space, tab, newline and backslash in paths as octal (\040). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_match, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

/**
 * The cgroup mounts in /proc/self/mountinfo. A line is
 * `id parent major:minor root mountpoint options [optional…] - fstype source superoptions`.
 */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ", 2);
    if (left === undefined || right === undefined) continue;
    const mountPoint = left.split(" ")[4];
    const [fstype, , superOptions = ""] = right.split(" ");
    if (mountPoint === undefined) continue;
    const path = unescapeMountPath(mountPoint);
    if (fstype === "cgroup2") mounts.push({ version: 2, path, controllers: [] });
    if (fstype === "cgroup") {
      const controllers = superOptions.split(",").filter((option) => V1_CONTROLLERS.has(option));
      mounts.push({ version: 1, path, controllers });
    }
  }
  return mounts;
}

export function cgroupLayout(mounts: readonly CgroupMount[]): CgroupLayout {
  const v1 = mounts.some((mount) => mount.version === 1);
  const v2 = mounts.some((mount) => mount.version === 2);
  if (v1 && v2) return "hybrid";
  return v1 ? "v1" : v2 ? "v2" : "none";
}

/** A controller lives in one hierarchy at a time, so at most one version can offer each limit. */
export function describeCgroups(
  mounts: readonly CgroupMount[],
  v2Controllers: readonly string[],
): CgroupStatus {
  const v1Controllers = [...new Set(mounts.flatMap((mount) => mount.controllers))].sort();
  const limitVia = (controller: string) =>
    v2Controllers.includes(controller) ? "v2" : v1Controllers.includes(controller) ? "v1" : null;
  return {
    layout: cgroupLayout(mounts),
    v1Controllers,
    v2Path: mounts.find((mount) => mount.version === 2)?.path ?? null,
    v2Controllers: [...v2Controllers],
    memoryLimit: limitVia("memory"),
    cpuLimit: limitVia("cpu"),
  };
}

/**
 * crun does not support hybrid layouts: it refuses to start a container while the v2 hierarchy holds
 * any controller ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"). It then
 * works only in a private mount namespace where /sys/fs/cgroup/unified is unmounted.
 */
export function crunRefusesCgroups(cgroups: CgroupStatus): boolean {
  return cgroups.layout === "hybrid" && cgroups.v2Controllers.length > 0;
}

export function probeCgroups(host: HostSystem): CgroupStatus {
  const mounts = parseCgroupMounts(host.readText("/proc/self/mountinfo") ?? "");
  const v2Path = mounts.find((mount) => mount.version === 2)?.path;
  const listed = v2Path === undefined ? "" : (host.readText(join(v2Path, "cgroup.controllers")) ?? "");
  return describeCgroups(mounts, listed.split(/\s+/).filter(Boolean));
}

// ---------------------------------------------------------------------------------------------
// Isolation

export interface GuestKernel {
  path: string;
  present: boolean;
}

export interface IsolationVerdict {
  mode: "microvm" | "sandbox";
  reason: string;
}

/**
 * The guest kernel a3s boots: an uncompressed vmlinux, which QEMU's microvm machine loads directly.
 * `vmlinux` is where src/box/microvm/kernel.ts found one, or where this machine's build would go.
 */
export function probeGuestKernel(host: HostSystem, vmlinux: string): GuestKernel {
  return { path: vmlinux, present: host.exists(vmlinux) };
}

/** MicroVMs by default only where they run at hardware speed; everywhere else, namespaces. */
export function decideIsolation(input: {
  kvm: Pick<KvmStatus, "usable" | "reason">;
  qemu: Tool;
  guestKernel: GuestKernel;
}): IsolationVerdict {
  const missing: string[] = [];
  if (!input.kvm.usable) missing.push("KVM is not usable");
  if (input.qemu.path === null) missing.push(`${input.qemu.name} is not installed`);
  if (!input.guestKernel.present) missing.push(`no guest kernel at ${input.guestKernel.path}`);
  if (missing.length === 0) {
    return { mode: "microvm", reason: `KVM is usable and ${input.qemu.name} and a guest kernel are present` };
  }
  if (missing.length === 1 && !input.kvm.usable) {
    return {
      mode: "sandbox",
      reason:
        "KVM is not usable; microVMs still run under QEMU's TCG emulation with --isolation microvm (slower)",
    };
  }
  return { mode: "sandbox", reason: `microVMs need KVM, QEMU and a guest kernel: ${missing.join("; ")}` };
}

// ---------------------------------------------------------------------------------------------
// Everything at once

export interface HostReport {
  kvm: KvmStatus;
  qemu: Tool;
  rootfsTools: Tool[];
  runtimes: Tool[];
  defaultRuntime: string | null;
  cgroups: CgroupStatus;
  guestKernel: GuestKernel;
  isolation: IsolationVerdict;
}

export function probeHost(host: HostSystem, vmlinux: string): HostReport {
  const kvm = probeKvm(host);
  const qemu = probeQemu(host);
  const runtimes = probeRuntimes(host);
  const guestKernel = probeGuestKernel(host, vmlinux);
  return {
    kvm,
    qemu,
    rootfsTools: probeRootfsTools(host),
    runtimes,
    defaultRuntime: defaultRuntime(runtimes),
    cgroups: probeCgroups(host),
    guestKernel,
    isolation: decideIsolation({ kvm, qemu, guestKernel }),
  };
}
