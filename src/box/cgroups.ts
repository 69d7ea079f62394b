/**
 * Resource accounting and process listing for a box's cgroup, as `docker stats` and `docker top`
 * show them. Works on cgroup v1, v2 (unified) and hybrid layouts; in a hybrid layout each controller
 * is read from the hierarchy that holds it. The root is injectable so tests can use fixture trees.
 * Only cgroupfs-style paths ("/a3s/<id>") are understood, not systemd's "slice:prefix:name".
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../core/errors.ts";
import { isDirectory, readTextIfPresent } from "../core/fs.ts";

export const CGROUP_ROOT = "/sys/fs/cgroup";

export type CgroupLayout = "v1" | "v2" | "hybrid";

export interface CgroupStats {
  memory: {
    /** Bytes in use as `docker stats` counts them: the usage minus inactive file cache. */
    usage: number;
    /** The kernel's usage counter, page cache included. */
    rawUsage: number;
    /** Bytes; undefined when unlimited. */
    limit?: number;
    /** Peak usage (v1 max_usage_in_bytes, v2 memory.peak where the kernel has it). */
    maxUsage?: number;
  };
  cpu: {
    /** CPU time used by the cgroup's processes, in nanoseconds. */
    usageNanos: number;
    /** CFS quota per period, in microseconds; undefined when unlimited. */
    quota?: number;
    /** CFS period, in microseconds. */
    period?: number;
  };
  pids: { current: number; limit?: number };
}

/** Which cgroup hierarchies a root holds: v2 at the root, v2 under `unified/` beside v1, or v1 alone. */
export function cgroupLayout(root: string = CGROUP_ROOT): CgroupLayout {
  if (existsSync(join(root, "cgroup.controllers"))) return "v2";
  const v1 = ["memory", "cpu", "cpuacct", "cpu,cpuacct", "pids"].some((dir) => existsSync(join(root, dir)));
  if (v1 && existsSync(join(root, "unified", "cgroup.controllers"))) return "hybrid";
  if (v1) return "v1";
  throw new A3sError("not_found", `no cgroup hierarchy at ${root}`, {
    hint: "a3s needs cgroupfs mounted at /sys/fs/cgroup to account for boxes' resources",
  });
}

interface Place {
  dir: string;
  version: 1 | 2;
}

type Controller = "memory" | "cpu" | "cpuacct" | "pids";

/** v1 controllers may be co-mounted ("cpu,cpuacct"); distributions usually add symlinks, fixtures may not. */
const V1_DIRS: Record<Controller, readonly string[]> = {
  memory: ["memory"],
  cpu: ["cpu", "cpu,cpuacct", "cpuacct,cpu"],
  cpuacct: ["cpuacct", "cpu,cpuacct", "cpuacct,cpu"],
  pids: ["pids"],
};

function relative(cgroupsPath: string): string {
  const parts = cgroupsPath.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0 || parts.includes("..") || cgroupsPath.includes(":")) {
    throw new A3sError("usage", `unsupported cgroups path '${cgroupsPath}'`, {
      hint: "expected a cgroupfs path such as /a3s/<id>",
    });
  }
  return parts.join("/");
}

/** Where one controller keeps a cgroup's files, or undefined when that cgroup is not there. */
class Locator {
  readonly layout: CgroupLayout;
  private readonly v2Root: string;
  private readonly v2Controllers: ReadonlySet<string>;

  constructor(
    private readonly root: string,
    private readonly path: string,
  ) {
    this.layout = cgroupLayout(root);
    this.v2Root = this.layout === "v2" ? root : join(root, "unified");
    const listed =
      this.layout === "v1" ? "" : (readTextIfPresent(join(this.v2Root, "cgroup.controllers")) ?? "");
    this.v2Controllers = new Set(listed.split(/\s+/).filter(Boolean));
  }

  unified(): Place | undefined {
    if (this.layout === "v1") return undefined;
    const dir = join(this.v2Root, this.path);
    return isDirectory(dir) ? { dir, version: 2 } : undefined;
  }

  find(controller: Controller): Place | undefined {
    // v2 has no cpuacct: CPU usage is in cpu.stat, which every v2 cgroup has.
    const v2Name = controller === "cpuacct" ? "cpu" : controller;
    if (this.layout === "v2" || (this.layout === "hybrid" && this.v2Controllers.has(v2Name))) {
      return this.unified();
    }
    for (const name of V1_DIRS[controller]) {
      const dir = join(this.root, name, this.path);
      if (isDirectory(dir)) return { dir, version: 1 };
    }
    return undefined;
  }
}

/** A counter file: a decimal number; undefined when missing or unreadable. */
function readNumber(dir: string, file: string): number | undefined {
  const text = readTextIfPresent(join(dir, file))?.trim();
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return Number(text);
}

/** v1 writes "unlimited" as a huge number (PAGE_COUNTER_MAX × page size) or -1; v2 writes "max". */
function readLimit(dir: string, file: string): number | undefined {
  const value = readNumber(dir, file);
  return value === undefined || value < 0 || value >= 2 ** 62 ? undefined : value;
}

/** "key value" lines, as in memory.stat and cpu.stat. */
export function parseKeyValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) values.set(key, Number(value));
  }
  return values;
}

function readMemory(place: Place | undefined): CgroupStats["memory"] {
  if (place === undefined) return { usage: 0, rawUsage: 0 };
  const v1 = place.version === 1;
  const rawUsage = readNumber(place.dir, v1 ? "memory.usage_in_bytes" : "memory.current") ?? 0;
  const limit = readLimit(place.dir, v1 ? "memory.limit_in_bytes" : "memory.max");
  const maxUsage = readNumber(place.dir, v1 ? "memory.max_usage_in_bytes" : "memory.peak");
  // Docker's CLI subtracts the inactive page cache, which the kernel reclaims first.
  const stat = parseKeyValues(readTextIfPresent(join(place.dir, "memory.stat")) ?? "");
  const inactive = stat.get(v1 ? "total_inactive_file" : "inactive_file") ?? 0;
  const memory: CgroupStats["memory"] = {
    usage: inactive < rawUsage ? rawUsage - inactive : rawUsage,
    rawUsage,
  };
  if (limit !== undefined) memory.limit = limit;
  if (maxUsage !== undefined) memory.maxUsage = maxUsage;
  return memory;
}

function readCpu(usage: Place | undefined, limits: Place | undefined): CgroupStats["cpu"] {
  const cpu: CgroupStats["cpu"] = { usageNanos: 0 };
  if (usage?.version === 1) cpu.usageNanos = readNumber(usage.dir, "cpuacct.usage") ?? 0;
  if (usage?.version === 2) {
    const stat = parseKeyValues(readTextIfPresent(join(usage.dir, "cpu.stat")) ?? "");
    cpu.usageNanos = (stat.get("usage_usec") ?? 0) * 1000;
  }
  if (limits?.version === 1) {
    const quota = readLimit(limits.dir, "cpu.cfs_quota_us");
    const period = readNumber(limits.dir, "cpu.cfs_period_us");
    if (quota !== undefined) cpu.quota = quota;
    if (period !== undefined) cpu.period = period;
  }
  if (limits?.version === 2) {
    // cpu.max: "<quota|max> <period>"
    const [quota, period] = (readTextIfPresent(join(limits.dir, "cpu.max")) ?? "").trim().split(/\s+/);
    if (quota !== undefined && /^\d+$/.test(quota)) cpu.quota = Number(quota);
    if (period !== undefined && /^\d+$/.test(period)) cpu.period = Number(period);
  }
  return cpu;
}

function readPids(place: Place | undefined): CgroupStats["pids"] {
  if (place === undefined) return { current: 0 };
  const pids: CgroupStats["pids"] = { current: readNumber(place.dir, "pids.current") ?? 0 };
  const limit = readLimit(place.dir, "pids.max");
  if (limit !== undefined) pids.limit = limit;
  return pids;
}

function missing(cgroupsPath: string, root: string): A3sError {
  return new A3sError("not_found", `cgroup ${cgroupsPath} does not exist under ${root}`, {
    hint: "the box is not running, or its runtime placed it elsewhere",
  });
}

/**
 * Memory, CPU and pids accounting of a cgroup (`cgroupsPath` as given to the OCI runtime). A controller
 * that is not mounted or not enabled for the cgroup reads as zero usage and no limit, as in Docker.
 */
export function readStats(cgroupsPath: string, root: string = CGROUP_ROOT): CgroupStats {
  const locator = new Locator(root, relative(cgroupsPath));
  const memory = locator.find("memory");
  const cpuacct = locator.find("cpuacct");
  const cpu = locator.find("cpu");
  const pids = locator.find("pids");
  if (!memory && !cpuacct && !cpu && !pids && !locator.unified()) throw missing(cgroupsPath, root);
  return { memory: readMemory(memory), cpu: readCpu(cpuacct, cpu), pids: readPids(pids) };
}

/**
 * CPU use as `docker stats` shows it: cpuDelta / systemDelta × onlineCpus × 100, 100% being one full
 * CPU. Docker takes the system delta from /proc/stat's total (all CPUs, idle included); here it is the
 * wall-clock delta × onlineCpus, which that total approximates, so the result is cpuDelta / elapsed.
 */
export function cpuPercent(
  prev: { cpu: { usageNanos: number } },
  next: { cpu: { usageNanos: number } },
  elapsedNanos: number,
  onlineCpus: number,
): number {
  const cpuDelta = next.cpu.usageNanos - prev.cpu.usageNanos;
  const systemDelta = elapsedNanos * onlineCpus;
  if (cpuDelta <= 0 || systemDelta <= 0) return 0;
  return (cpuDelta / systemDelta) * onlineCpus * 100;
}

/** The pids in a cgroup and its descendants, ascending (runc's `ps` includes sub-cgroups too). */
export function listProcesses(cgroupsPath: string, root: string = CGROUP_ROOT): number[] {
  const locator = new Locator(root, relative(cgroupsPath));
  const place = locator.find("pids") ?? locator.find("memory") ?? locator.unified() ?? locator.find("cpu");
  if (place === undefined) throw missing(cgroupsPath, root);
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    for (const line of (readTextIfPresent(join(dir, "cgroup.procs")) ?? "").split("\n")) {
      if (/^\d+$/.test(line.trim())) pids.add(Number(line));
    }
    let children: string[] = [];
    try {
      children = readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
    } catch {
      // Removed while we walked it.
    }
    for (const child of children) walk(join(dir, child));
  };
  walk(place.dir);
  return [...pids].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// docker top

export const TOP_TITLES = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"] as const;
export type ProcessRow = Record<(typeof TOP_TITLES)[number], string>;

export interface DescribeOptions {
  /** Where procfs is mounted (tests pass a fixture tree). */
  proc?: string;
  passwd?: string;
  now?: Date;
  /** Clock ticks per second (USER_HZ); 100 on every Linux architecture a3s runs on. */
  hertz?: number;
}

/** uid → user name from a passwd file; the first entry for a uid wins, as with getpwuid. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split("\n")) {
    const [name, , uid] = line.split(":");
    if (name && uid !== undefined && /^\d+$/.test(uid) && !names.has(Number(uid))) {
      names.set(Number(uid), name);
    }
  }
  return names;
}

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parens. */
export function parseProcStat(text: string): { comm: string; fields: string[] } | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open === -1 || close < open) return undefined;
  return {
    comm: text.slice(open + 1, close),
    fields: text
      .slice(close + 2)
      .trim()
      .split(" "),
  };
}

/** A controlling terminal's name from stat's tty_nr, as ps prints it ("?" for none). */
export function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return "?";
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${minor + (major - 136) * 256}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major === 5 && minor === 1) return "console";
  return `${major}/${minor}`;
}

/** ps's TIME: [DD-]HH:MM:SS. */
export function formatCpuTime(seconds: number): string {
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, "0");
  const days = Math.floor(s / 86_400);
  const clock = `${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  return days > 0 ? `${days}-${clock}` : clock;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** ps's STIME in local time: HH:MM when started today, MmmDD this year, otherwise the year. */
export function formatStartTime(start: Date, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  if (start.getFullYear() !== now.getFullYear()) return String(start.getFullYear());
  if (start.getMonth() !== now.getMonth() || start.getDate() !== now.getDate()) {
    return `${MONTHS[start.getMonth()]}${pad(start.getDate())}`;
  }
  return `${pad(start.getHours())}:${pad(start.getMinutes())}`;
}

/**
 * `docker top` rows (the columns of `ps -ef`) for the given host pids, read from procfs. Processes that
 * exit meanwhile are left out. UIDs are the effective ones, named from the host's passwd file.
 */
export function describeProcesses(pids: readonly number[], options: DescribeOptions = {}): ProcessRow[] {
  const proc = options.proc ?? "/proc";
  const hertz = options.hertz ?? 100;
  const now = options.now ?? new Date();
  const users = parsePasswd(readTextIfPresent(options.passwd ?? "/etc/passwd") ?? "");
  const uptime = Number.parseFloat(readTextIfPresent(join(proc, "uptime")) ?? "0");
  const bootTime = Number(/^btime (\d+)$/m.exec(readTextIfPresent(join(proc, "stat")) ?? "")?.[1] ?? 0);
  const rows: ProcessRow[] = [];
  for (const pid of pids) {
    const dir = join(proc, String(pid));
    const stat = parseProcStat(readTextIfPresent(join(dir, "stat")) ?? "");
    const status = readTextIfPresent(join(dir, "status"));
    const cmdline = readTextIfPresent(join(dir, "cmdline"));
    if (stat === undefined || status === undefined || cmdline === undefined) continue;
    const field = (n: number) => Number(stat.fields[n - 3] ?? 0); // n as numbered in proc(5)
    const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const cpuTicks = field(14) + field(15);
    const startTicks = field(22);
    // procps's C: whole seconds of life, and 0 for a process younger than a second.
    const elapsed = Math.floor(uptime) - Math.floor(startTicks / hertz);
    const percent =
      elapsed > 0 ? Math.min(99, Math.floor(Math.floor((cpuTicks * 100) / hertz) / elapsed)) : 0;
    const args = cmdline.split("\0").filter((arg, i, all) => arg !== "" || i < all.length - 1);
    let command = args.length > 0 ? args.join(" ") : `[${stat.comm}]`;
    if (stat.fields[0] === "Z") command = `[${stat.comm}] <defunct>`;
    rows.push({
      UID: users.get(uid) ?? String(uid),
      PID: String(pid),
      PPID: String(field(4)),
      C: String(percent),
      STIME: formatStartTime(new Date((bootTime + startTicks / hertz) * 1000), now),
      TTY: ttyName(field(7)),
      TIME: formatCpuTime(cpuTicks / hertz),
      CMD: command,
    });
  }
  return rows;
}
