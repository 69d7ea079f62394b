/**
 * The file systems of a box: Docker's default mounts (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue,
 * /sys, /sys/fs/cgroup), a tmpfs /tmp under a read-only root, the box's own /etc/hostname, /etc/hosts
 * and /etc/resolv.conf, and the user's `-v` bind mounts.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { VolumeMount } from "./options.ts";

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** Host files bind-mounted over the image's /etc/hostname, /etc/hosts and /etc/resolv.conf. */
export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

export interface MountsInput {
  readOnly: boolean;
  volumes: readonly VolumeMount[];
  etcFiles?: EtcFiles;
  /**
   * In a user namespace sysfs may only be mounted in a network namespace it owns; with the host's
   * network the host's /sys is bind-mounted read-only instead (what rootless podman does).
   */
  sysfsBind: boolean;
}

const NO_EXEC = ["nosuid", "noexec", "nodev"];

/** Docker's defaults (moby oci/defaults.go), in its order: parents before children. */
function defaultMounts(sysfsBind: boolean): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: [...NO_EXEC] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    sysfsBind
      ? { destination: "/sys", type: "bind", source: "/sys", options: ["rbind", ...NO_EXEC, "ro"] }
      : { destination: "/sys", type: "sysfs", source: "sysfs", options: [...NO_EXEC, "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro", ...NO_EXEC] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: [...NO_EXEC] },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: [...NO_EXEC, "mode=1777", "size=67108864"],
    },
  ];
}

function bind(source: string, destination: string, readOnly: boolean, propagation = "rprivate"): OciMount {
  return {
    destination,
    type: "bind",
    source,
    options: ["rbind", propagation, ...(readOnly ? ["ro"] : [])],
  };
}

const depth = (path: string) => path.split("/").filter(Boolean).length;

/**
 * All mounts of a box. A user volume replaces a default mount with the same destination (as in
 * Docker, `-v /x:/dev/shm` wins), and bind mounts are ordered shallow to deep (as Docker sorts them)
 * so a parent (`-v /x:/etc`) never hides a child mounted before it (/etc/hosts).
 */
export function boxMounts(input: MountsInput): OciMount[] {
  const mounts = defaultMounts(input.sysfsBind);
  // Docker leaves /tmp to the image; a read-only root would leave programs nowhere to write.
  if (input.readOnly) {
    mounts.push({
      destination: "/tmp",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", "mode=1777"],
    });
  }
  const etc = input.etcFiles
    ? [
        bind(input.etcFiles.hostname, "/etc/hostname", input.readOnly),
        bind(input.etcFiles.hosts, "/etc/hosts", input.readOnly),
        bind(input.etcFiles.resolvConf, "/etc/resolv.conf", input.readOnly),
      ]
    : [];
  const volumes = input.volumes.map((v) => bind(v.source, v.destination, v.readOnly, v.propagation));
  const taken = new Set(volumes.map((volume) => volume.destination));
  const notTaken = (mount: OciMount) => !taken.has(mount.destination);
  const binds = [...etc.filter(notTaken), ...volumes].sort(
    (a, b) => depth(a.destination) - depth(b.destination),
  );
  return [...mounts.filter(notTaken), ...binds];
}

export interface EtcFilesOptions {
  /** The host's resolver configuration to copy; /etc/resolv.conf by default. */
  resolvConfSource?: string;
}

/**
 * Writes the box's hostname, hosts and resolv.conf into `boxDir`. resolv.conf is the host's, even
 * without a network: a box that gains one later (or uses the host's) needs it, and Docker does the same.
 */
export function writeEtcFiles(boxDir: string, hostname: string, options: EtcFilesOptions = {}): EtcFiles {
  mkdirSync(boxDir, { recursive: true });
  const files: EtcFiles = {
    hostname: join(boxDir, "hostname"),
    hosts: join(boxDir, "hosts"),
    resolvConf: join(boxDir, "resolv.conf"),
  };
  let resolvConf = "";
  try {
    resolvConf = readFileSync(options.resolvConfSource ?? "/etc/resolv.conf", "utf8");
  } catch {
    // No resolver on the host: the box gets an empty file, as the host effectively has.
  }
  writeFileSync(files.hostname, `${hostname}\n`, { mode: 0o644 });
  writeFileSync(files.hosts, hostsFile(hostname), { mode: 0o644 });
  writeFileSync(files.resolvConf, resolvConf, { mode: 0o644 });
  return files;
}

export function hostsFile(hostname: string): string {
  return [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
    `127.0.0.1\t${hostname}`,
    "",
  ].join("\n");
}
