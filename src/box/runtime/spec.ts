/**
 * Translates a box's Docker-style settings into an OCI runtime spec (config.json, runtime-spec
 * 1.0.2) that crun, runc or runsc can run. Pure: no file is read or written here.
 */
import { posix } from "node:path";
import { A3sError } from "../../core/errors.ts";
import type { ImageConfig } from "../oci/manifest.ts";
import { boxMounts, type EtcFiles, type OciMount } from "./mounts.ts";
import type { CpuLimit, VolumeMount } from "./options.ts";
import { defaultSeccomp, type Seccomp } from "./seccomp.ts";

export type { EtcFiles, OciMount } from "./mounts.ts";

export type NamespaceType = "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup";

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface DeviceRule {
  allow: boolean;
  type?: "a" | "c" | "b";
  major?: number;
  minor?: number;
  access?: string;
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[] };
    rlimits: Array<{ type: string; hard: number; soft: number }>;
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  /** Free-form data for the runtime (the microVM backend reads its root disk and volumes here). */
  annotations?: Record<string, string>;
  mounts: OciMount[];
  linux: {
    namespaces: Array<{ type: NamespaceType; path?: string }>;
    uidMappings?: IdMapping[];
    gidMappings?: IdMapping[];
    cgroupsPath: string;
    resources: {
      devices: DeviceRule[];
      memory?: { limit: number; swap: number };
      cpu?: { quota: number; period: number };
      pids?: { limit: number };
    };
    seccomp?: Seccomp;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

export type BoxNetwork = "none" | "host";

export interface SpecInput {
  /** The box id: names the cgroup and, by default, the hostname. */
  id: string;
  /** Host path of the assembled root filesystem. */
  rootfs: string;
  readOnly?: boolean;
  /** From resolveCommand. */
  args: string[];
  /** From mergeEnv. */
  env: string[];
  /** From resolveWorkdir. */
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  /** Defaults to the first 12 characters of the id, as Docker's. */
  hostname?: string;
  /** `-t` */
  terminal?: boolean;
  volumes?: readonly VolumeMount[];
  /** From writeEtcFiles; without them the image's own /etc files stay. */
  etcFiles?: EtcFiles;
  resources?: { memory?: number; cpu?: CpuLimit; pids?: number };
  /** Defaults to /a3s/<id>. */
  cgroupsPath?: string;
  /** "none" (the default): a network namespace of its own with only loopback. */
  network?: BoxNetwork;
  /**
   * A user namespace with an identity mapping of every id (0→0, 4294967295 ids). File ownership stays
   * exactly as it is (the overlay rootfs and volumes owned by root stay root's, no chown or idmapped
   * mount needed), while the box's capabilities count only inside its namespace: root in a box fails
   * every kernel check made against the host's user namespace (module loading, host-owned network
   * and mount namespaces, most of what a kernel-level escape needs).
   * Measured with crun 1.8, runc 1.1 and runsc here: cgroup v1 limits, chown, setuid and ping in the
   * box's own network namespace all keep working; mknod of device nodes fails with EPERM (as in
   * rootless containers: only images that create devices at run time notice).
   * With the host's network it breaks essentials: the network namespace then belongs to the host's
   * user namespace, so binding ports below 1024 and raw sockets (ping) fail, and sysfs cannot be
   * mounted. Default: on, except with the host's network.
   */
  userns?: boolean;
  /** A cgroup namespace (default true; pass hostSupportsCgroupNamespace(): kernels before 4.6 lack it). */
  cgroupns?: boolean;
  /** The host's hard RLIMIT_NOFILE: the box's limit never exceeds it, or the runtime fails. */
  nofileHardLimit?: number;
  /** null: no seccomp filter (unconfined). Defaults to defaultSeccomp(). */
  seccomp?: Seccomp | null;
}

/** Docker's default capability set (moby oci/caps/defaults.go). */
// biome-ignore format: reads better packed
export const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
  "CAP_AUDIT_WRITE",
] as const;

// biome-ignore format: reads better packed
export const MASKED_PATHS = [
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
] as const;

export const READONLY_PATHS = [
  "/proc/bus",
  "/proc/fs",
  "/proc/irq",
  "/proc/sys",
  "/proc/sysrq-trigger",
] as const;

/** Deny every device, then allow the ones a container always has (runc's AllowedDevices). */
const DEVICE_RULES: DeviceRule[] = [
  { allow: false, access: "rwm" },
  { allow: true, type: "c", access: "m" },
  { allow: true, type: "b", access: "m" },
  ...(
    [
      [1, 3], // /dev/null
      [1, 5], // /dev/zero
      [1, 7], // /dev/full
      [1, 8], // /dev/random
      [1, 9], // /dev/urandom
      [5, 0], // /dev/tty
      [5, 1], // /dev/console
      [5, 2], // /dev/ptmx
      [136, undefined], // /dev/pts/*
      [10, 200], // /dev/net/tun
    ] as const
  ).map(([major, minor]): DeviceRule => ({ allow: true, type: "c", major, minor, access: "rwm" })),
];

export const DEFAULT_NOFILE = 1024;
/** Every id but the last (4294967295 is the kernel's "no id"). */
const ALL_IDS: IdMapping = { containerID: 0, hostID: 0, size: 4294967295 };

export function defaultHostname(id: string): string {
  return id.slice(0, 12);
}

export function buildSpec(input: SpecInput): OciSpec {
  const network = input.network ?? "none";
  const userns = input.userns ?? network !== "host";
  const namespaces: NamespaceType[] = ["pid", "mount", "ipc", "uts"];
  if (network !== "host") namespaces.push("network");
  if (input.cgroupns ?? true) namespaces.push("cgroup");
  if (userns) namespaces.push("user");
  const nofile = Math.min(DEFAULT_NOFILE, input.nofileHardLimit ?? DEFAULT_NOFILE);
  const caps = [...DEFAULT_CAPABILITIES];
  const { memory, cpu, pids } = input.resources ?? {};
  const { additionalGids, ...user } = input.user;
  const seccomp = input.seccomp === undefined ? defaultSeccomp() : input.seccomp;
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: input.terminal ?? false,
      user: additionalGids?.length ? { ...user, additionalGids: [...additionalGids] } : user,
      args: [...input.args],
      env: [...input.env],
      cwd: input.cwd,
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps], inheritable: [] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: nofile, soft: nofile }],
      noNewPrivileges: true,
    },
    root: { path: input.rootfs, readonly: input.readOnly ?? false },
    hostname: input.hostname ?? defaultHostname(input.id),
    mounts: boxMounts({
      readOnly: input.readOnly ?? false,
      volumes: input.volumes ?? [],
      etcFiles: input.etcFiles,
      sysfsBind: userns && network === "host",
    }),
    linux: {
      namespaces: namespaces.map((type) => ({ type })),
      ...(userns ? { uidMappings: [{ ...ALL_IDS }], gidMappings: [{ ...ALL_IDS }] } : {}),
      cgroupsPath: input.cgroupsPath ?? `/a3s/${input.id}`,
      resources: {
        devices: DEVICE_RULES.map((rule) => ({ ...rule })),
        // swap = limit: the limit covers memory plus swap, so a box cannot swap (Docker's default
        // allows as much swap again; a sandbox should be killed, not slowed to a crawl).
        ...(memory ? { memory: { limit: memory, swap: memory } } : {}),
        ...(cpu ? { cpu: { quota: cpu.quota, period: cpu.period } } : {}),
        ...(pids ? { pids: { limit: pids } } : {}),
      },
      ...(seccomp ? { seccomp } : {}),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

type ContainerConfig = NonNullable<ImageConfig["config"]>;

export interface CommandOptions {
  /** `--entrypoint`: replaces the image's entrypoint and drops its Cmd; "" clears the entrypoint. */
  entrypoint?: string;
  /** The arguments after the image name; replace the image's Cmd when given. */
  cmd?: readonly string[];
}

/** The process arguments by Docker's rules: entrypoint ++ cmd. */
export function resolveCommand(image: ContainerConfig | undefined, options: CommandOptions): string[] {
  const userCmd = options.cmd && options.cmd.length > 0 ? [...options.cmd] : undefined;
  let args: string[];
  if (options.entrypoint !== undefined) {
    args = [...(options.entrypoint === "" ? [] : [options.entrypoint]), ...(userCmd ?? [])];
  } else {
    args = [...(image?.Entrypoint ?? []), ...(userCmd ?? image?.Cmd ?? [])];
  }
  if (args.length === 0) {
    throw new A3sError("usage", "no command specified", {
      exitCode: 125,
      hint: "give a command after the image name, or use an image with an entrypoint or CMD",
    });
  }
  return args;
}

/** `-w` or the image's WorkingDir or "/"; a relative -w is refused, as in Docker. */
export function resolveWorkdir(image: ContainerConfig | undefined, workdir?: string): string {
  if (workdir !== undefined && workdir !== "") {
    if (!workdir.startsWith("/")) {
      throw new A3sError(
        "usage",
        `the working directory '${workdir}' is invalid: it must be an absolute path`,
        {
          exitCode: 125,
        },
      );
    }
    return posix.normalize(workdir);
  }
  const fromImage = image?.WorkingDir;
  return fromImage ? posix.normalize(posix.join("/", fromImage)) : "/";
}
