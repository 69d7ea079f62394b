import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { A3sError } from "../core/errors.ts";
import {
  CGROUP_ROOT,
  cgroupLayout,
  cpuPercent,
  describeProcesses,
  formatCpuTime,
  formatStartTime,
  listProcesses,
  readStats,
  ttyName,
} from "./cgroups.ts";

const base = mkdtempSync(join(tmpdir(), "a3s-cgroups-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Writes a fixture tree: { "memory/a3s/box1/memory.usage_in_bytes": "123\n", … }. */
function fixture(name: string, files: Record<string, string>): string {
  const root = join(base, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

// Excerpts of real files: a Docker container on a v1 host (Ubuntu 18.04) and on a v2 host (Debian 12).
const V1_MEMORY_STAT = `cache 4866048
rss 1662976
mapped_file 2297856
inactive_anon 0
active_anon 1662976
inactive_file 2027520
active_file 2838528
hierarchical_memory_limit 268435456
total_cache 4866048
total_rss 1662976
total_inactive_anon 0
total_active_anon 1662976
total_inactive_file 2027520
total_active_file 2838528
`;
const V2_MEMORY_STAT = `anon 1339392
file 5255168
kernel_stack 16384
shmem 0
file_mapped 2433024
active_anon 1323008
inactive_anon 0
active_file 2068480
inactive_file 3186688
unevictable 0
`;
const V2_CPU_STAT = `usage_usec 1836254
user_usec 1012930
system_usec 823324
nr_periods 120
nr_throttled 3
throttled_usec 45012
`;
const UNLIMITED_V1 = "9223372036854771712\n";
const V2_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc\n";

const V1_FILES: Record<string, string> = {
  "memory/a3s/box1/memory.usage_in_bytes": "7208960\n",
  "memory/a3s/box1/memory.limit_in_bytes": "268435456\n",
  "memory/a3s/box1/memory.max_usage_in_bytes": "9523200\n",
  "memory/a3s/box1/memory.stat": V1_MEMORY_STAT,
  "memory/a3s/box1/cgroup.procs": "4242\n4250\n",
  "cpuacct/a3s/box1/cpuacct.usage": "1836254112\n",
  "cpu/a3s/box1/cpu.cfs_quota_us": "50000\n",
  "cpu/a3s/box1/cpu.cfs_period_us": "100000\n",
  "pids/a3s/box1/pids.current": "2\n",
  "pids/a3s/box1/pids.max": "512\n",
  "pids/a3s/box1/cgroup.procs": "4242\n4250\n",
  "pids/a3s/box1/sub/cgroup.procs": "4260\n",
};

describe("fixture layouts", () => {
  test("v1: every controller in its own hierarchy", () => {
    const root = fixture("v1", V1_FILES);
    expect(cgroupLayout(root)).toBe("v1");
    expect(readStats("/a3s/box1", root)).toEqual({
      memory: { usage: 7208960 - 2027520, rawUsage: 7208960, limit: 268435456, maxUsage: 9523200 },
      cpu: { usageNanos: 1836254112, quota: 50000, period: 100000 },
      pids: { current: 2, limit: 512 },
    });
    expect(listProcesses("/a3s/box1", root)).toEqual([4242, 4250, 4260]);
  });

  test("v1: unlimited values and files Docker tolerates missing", () => {
    const root = fixture("v1-unlimited", {
      "memory/a3s/box1/memory.usage_in_bytes": "1048576\n",
      "memory/a3s/box1/memory.limit_in_bytes": UNLIMITED_V1,
      "cpu,cpuacct/a3s/box1/cpuacct.usage": "5000\n",
      "cpu,cpuacct/a3s/box1/cpu.cfs_quota_us": "-1\n",
      "cpu,cpuacct/a3s/box1/cpu.cfs_period_us": "100000\n",
      "pids/a3s/box1/pids.current": "1\n",
      "pids/a3s/box1/pids.max": "max\n",
    });
    expect(readStats("a3s/box1", root)).toEqual({
      memory: { usage: 1048576, rawUsage: 1048576 },
      cpu: { usageNanos: 5000, period: 100000 },
      pids: { current: 1 },
    });
  });

  test("v1 without a pids controller lists processes from the memory controller", () => {
    const files = { ...V1_FILES };
    for (const key of Object.keys(files)) if (key.startsWith("pids/")) delete files[key];
    const root = fixture("v1-nopids", files);
    expect(readStats("/a3s/box1", root).pids).toEqual({ current: 0 });
    expect(listProcesses("/a3s/box1", root)).toEqual([4242, 4250]);
  });

  test("v2: one unified hierarchy", () => {
    const root = fixture("v2", {
      "cgroup.controllers": V2_CONTROLLERS,
      "a3s/box1/cgroup.controllers": V2_CONTROLLERS,
      "a3s/box1/memory.current": "8527872\n",
      "a3s/box1/memory.max": "536870912\n",
      "a3s/box1/memory.peak": "10944512\n",
      "a3s/box1/memory.stat": V2_MEMORY_STAT,
      "a3s/box1/cpu.stat": V2_CPU_STAT,
      "a3s/box1/cpu.max": "150000 100000\n",
      "a3s/box1/pids.current": "3\n",
      "a3s/box1/pids.max": "max\n",
      "a3s/box1/cgroup.procs": "77\n78\n79\n",
    });
    expect(cgroupLayout(root)).toBe("v2");
    expect(readStats("/a3s/box1", root)).toEqual({
      memory: { usage: 8527872 - 3186688, rawUsage: 8527872, limit: 536870912, maxUsage: 10944512 },
      cpu: { usageNanos: 1836254000, quota: 150000, period: 100000 },
      pids: { current: 3 },
    });
    expect(listProcesses("/a3s/box1", root)).toEqual([77, 78, 79]);
  });

  test("v2: unlimited and an older kernel without memory.peak", () => {
    const root = fixture("v2-unlimited", {
      "cgroup.controllers": V2_CONTROLLERS,
      "a3s/box1/memory.current": "4096\n",
      "a3s/box1/memory.max": "max\n",
      "a3s/box1/cpu.stat": V2_CPU_STAT,
      "a3s/box1/cpu.max": "max 100000\n",
    });
    expect(readStats("/a3s/box1", root)).toEqual({
      memory: { usage: 4096, rawUsage: 4096 },
      cpu: { usageNanos: 1836254000, period: 100000 },
      pids: { current: 0 },
    });
  });

  test("hybrid: controllers are read from whichever hierarchy holds them", () => {
    // This development machine: v2 holds only hugetlb, everything else is v1.
    const root = fixture("hybrid", { ...V1_FILES, "unified/cgroup.controllers": "hugetlb\n" });
    expect(cgroupLayout(root)).toBe("hybrid");
    expect(readStats("/a3s/box1", root).memory.limit).toBe(268435456);
    // A hybrid host where pids moved to v2.
    const moved = fixture("hybrid-pids", {
      ...V1_FILES,
      "unified/cgroup.controllers": "pids\n",
      "unified/a3s/box1/pids.current": "7\n",
      "unified/a3s/box1/pids.max": "100\n",
      "unified/a3s/box1/cgroup.procs": "1\n",
    });
    expect(readStats("/a3s/box1", moved).pids).toEqual({ current: 7, limit: 100 });
    expect(listProcesses("/a3s/box1", moved)).toEqual([1]);
  });

  test("a missing cgroup is not_found; a foreign path is a usage error", () => {
    const root = fixture("v1-missing", V1_FILES);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof A3sError ? err.code : String(err);
      }
      return "no error";
    };
    expect(code(() => readStats("/a3s/nope", root))).toBe("not_found");
    expect(code(() => listProcesses("/a3s/nope", root))).toBe("not_found");
    expect(code(() => readStats("/a3s/box1", join(base, "nothing-here")))).toBe("not_found");
    expect(code(() => readStats("system.slice:a3s:box1", root))).toBe("usage");
    expect(code(() => readStats("/a3s/../etc", root))).toBe("usage");
  });
});

describe("cpuPercent", () => {
  test("like docker stats: one busy CPU is 100%", () => {
    const at = (usageNanos: number) => ({ cpu: { usageNanos } });
    expect(cpuPercent(at(0), at(1e9), 1e9, 2)).toBeCloseTo(100);
    expect(cpuPercent(at(0), at(1e9), 2e9, 4)).toBeCloseTo(50);
    expect(cpuPercent(at(5), at(5), 1e9, 2)).toBe(0);
    expect(cpuPercent(at(0), at(1e9), 0, 2)).toBe(0);
  });
});

describe("describeProcesses", () => {
  const now = new Date(2026, 10, 21, 15, 30, 0);
  const bootTime = Math.floor(new Date(2026, 10, 21, 8, 0, 0).getTime() / 1000);
  const uptime = now.getTime() / 1000 - bootTime;
  const stat = (pid: number, comm: string, state: string, ppid: number, tty: number, ticks: number[]) =>
    `${pid} (${comm}) ${state} ${ppid} ${pid} ${pid} ${tty} -1 4194560 100 0 0 0 ${ticks[0]} ${ticks[1]} 0 0 20 0 1 0 ${ticks[2]} 2670592 200\n`;
  const proc = fixture("proc", {
    uptime: `${uptime.toFixed(2)} 1000.00\n`,
    stat: `cpu  100 0 100 1000\nbtime ${bootTime}\nprocesses 500\n`,
    "10/stat": stat(10, "sh", "S", 1, 34816, [3000, 1000, 100]), // pts/0; 40 s of CPU
    "10/status": "Name:\tsh\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
    "10/cmdline": "/bin/sh\0-c\0sleep 1; echo (done)\0",
    "11/stat": stat(11, "weird) name", "Z", 10, 0, [0, 0, 2_000_000]),
    "11/status": "Name:\tweird\nUid:\t4321\t4321\t4321\t4321\n",
    "11/cmdline": "",
  });
  const passwd = fixture("etc", {
    passwd: "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home:/bin/sh\n",
  });

  test("reads ps -ef columns from procfs", () => {
    const rows = describeProcesses([10, 11, 12], { proc, passwd: join(passwd, "passwd"), now });
    expect(rows).toEqual([
      {
        UID: "root", // the effective uid, as ps -ef shows
        PID: "10",
        PPID: "1",
        C: "0", // 40 s of CPU over 7.5 h
        STIME: "08:00", // boot + 100 ticks = 1 s after 08:00
        TTY: "pts/0",
        TIME: "00:00:40",
        CMD: "/bin/sh -c sleep 1; echo (done)",
      },
      {
        UID: "4321", // not in passwd
        PID: "11",
        PPID: "10",
        C: "0",
        STIME: formatStartTime(new Date((bootTime + 20_000) * 1000), now),
        TTY: "?",
        TIME: "00:00:00",
        CMD: "[weird) name] <defunct>",
      },
    ]);
  });

  test("ps formats", () => {
    expect(ttyName(0)).toBe("?");
    expect(ttyName((136 << 8) | 3)).toBe("pts/3");
    expect(ttyName((4 << 8) | 1)).toBe("tty1");
    expect(ttyName((4 << 8) | 64)).toBe("ttyS0");
    expect(formatCpuTime(3725.9)).toBe("01:02:05");
    expect(formatCpuTime(2 * 86_400 + 61)).toBe("2-00:01:01");
    expect(formatStartTime(new Date(2026, 0, 5, 9, 7), new Date(2026, 0, 5, 23, 0))).toBe("09:07");
    expect(formatStartTime(new Date(2026, 0, 5, 9, 7), new Date(2026, 10, 21))).toBe("Jan05");
    expect(formatStartTime(new Date(2025, 11, 31), new Date(2026, 0, 1))).toBe("2025");
  });
});

// ---------------------------------------------------------------------------------------------
// The real kernel: a v1 cgroup made by hand, as the OCI runtime makes one for a box.

const CONTROLLERS = ["memory", "pids", "cpu", "cpuacct"] as const;

function realSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "not root: creating cgroups needs root";
  const absent = CONTROLLERS.filter((c) => !existsSync(join(CGROUP_ROOT, c, "cgroup.procs")));
  if (absent.length > 0) return `no v1 hierarchy for ${absent.join(", ")} under ${CGROUP_ROOT}`;
  return undefined;
}

const skipReason = realSkipReason();
if (skipReason !== undefined) console.log(`skipping the real cgroup test: ${skipReason}`);

test.skipIf(skipReason !== undefined)("a real v1 cgroup: stats, processes and ps rows", async () => {
  const name = `a3s-test-${Math.random().toString(36).slice(2, 10)}`;
  const dirs = CONTROLLERS.map((c) => join(CGROUP_ROOT, c, name));
  // The child waits for a line on stdin, so it execs sleep only once it is in the cgroup.
  const child = Bun.spawn(["sh", "-c", "read line; exec sleep 30"], { stdin: "pipe" });
  try {
    for (const dir of dirs) mkdirSync(dir);
    for (const dir of dirs) writeFileSync(join(dir, "cgroup.procs"), String(child.pid));
    writeFileSync(join(CGROUP_ROOT, "memory", name, "memory.limit_in_bytes"), String(64 * 1024 * 1024));
    writeFileSync(join(CGROUP_ROOT, "cpu", name, "cpu.cfs_quota_us"), "50000");
    writeFileSync(join(CGROUP_ROOT, "pids", name, "pids.max"), "16");
    child.stdin.write("go\n");
    await child.stdin.flush();
    await Bun.sleep(200);

    const stats = readStats(`/${name}`);
    console.log(`real cgroup /${name}: ${JSON.stringify(stats)}`);
    expect(stats.memory.limit).toBe(64 * 1024 * 1024);
    expect(stats.memory.rawUsage).toBeGreaterThan(0);
    expect(stats.cpu.usageNanos).toBeGreaterThan(0);
    expect(stats.cpu.quota).toBe(50000);
    expect(stats.pids).toEqual({ current: 1, limit: 16 });

    expect(listProcesses(`/${name}`)).toEqual([child.pid]);
    const rows = describeProcesses([child.pid]);
    console.log(rows);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ UID: "root", PID: String(child.pid), PPID: String(process.pid) });
    expect(rows[0]!.CMD).toBe("sleep 30");
    expect(rows[0]!.TIME).toBe("00:00:00");
  } finally {
    child.kill();
    await child.exited;
    for (const dir of dirs) {
      // The kernel removes the exited task from the cgroup a moment after it is reaped.
      for (let attempt = 0; attempt < 50 && existsSync(dir); attempt++) {
        try {
          rmdirSync(dir);
        } catch {
          await Bun.sleep(20);
        }
      }
    }
  }
  for (const dir of dirs) expect(existsSync(dir)).toBe(false);
});
