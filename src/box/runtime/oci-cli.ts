/**
 * How to invoke an OCI runtime on this host: the command line (with the workaround crun needs on
 * hybrid cgroup hosts) and the host limits a spec must respect.
 */
import { crunRefusesCgroups, type HostSystem, probeCgroups, realHost } from "../host.ts";

export type OciRuntime = "crun" | "runc" | "runsc";

export interface RuntimeHost {
  /** From detectHybridCgroups(). */
  hybridCgroups: boolean;
  /** The runtime's executable when not found on PATH by name. */
  binary?: string;
  /**
   * runsc brings its own network stack and must be told which one to use: without `--network=none`
   * it refuses a box whose network namespace is new ("cannot run with network enabled in root
   * network namespace"). Ignored by crun and runc, which read the namespaces from the spec.
   */
  network?: "none" | "host";
}

/**
 * crun refuses to run while the cgroup v2 hierarchy of a hybrid layout holds a controller. In a
 * private mount namespace where /sys/fs/cgroup/unified is unmounted it sees a plain v1 host and works;
 * the host's own mounts are untouched. The namespace lives only as long as the crun process. Only
 * creating a container (run, create) needs it — kill, exec and delete worked without it here (crun
 * 1.8.1) — but every subcommand goes through it, so there is one way to call crun.
 */
const HYBRID_WRAPPER = ["unshare", "--mount", "--propagation", "private", "sh", "-c"];
const UNMOUNT_UNIFIED = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"';

export function runtimeCommand(runtime: OciRuntime, args: readonly string[], host: RuntimeHost): string[] {
  const flags = runtime === "runsc" ? [`--network=${host.network ?? "none"}`] : [];
  const command = [host.binary ?? runtime, ...flags, ...args];
  if (runtime === "crun" && host.hybridCgroups) return [...HYBRID_WRAPPER, UNMOUNT_UNIFIED, "sh", ...command];
  return command;
}

/** Whether this host has the hybrid cgroup layout crun refuses (see crunRefusesCgroups). */
export function detectHybridCgroups(host: HostSystem = realHost(process.env)): boolean {
  return crunRefusesCgroups(probeCgroups(host));
}

/** The hard limit in a /proc/<pid>/limits text, or undefined when unlimited or absent. */
export function parseNofileHardLimit(limits: string): number | undefined {
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(limits)?.[1];
  return hard === undefined || hard === "unlimited" ? undefined : Number(hard);
}

/** This process's hard RLIMIT_NOFILE, which a box's limit must not exceed. */
export function hostNofileHardLimit(host: HostSystem = realHost(process.env)): number | undefined {
  return parseNofileHardLimit(host.readText("/proc/self/limits") ?? "");
}

/** Cgroup namespaces arrived in Linux 4.6; SpecInput.cgroupns should follow this. */
export function hostSupportsCgroupNamespace(host: HostSystem = realHost(process.env)): boolean {
  return host.exists("/proc/self/ns/cgroup");
}
