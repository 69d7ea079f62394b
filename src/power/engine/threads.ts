/**
 * The physical core count: llama.cpp decodes fastest with one thread per physical core, and
 * node-llama-cpp's own default (max(4, cores)) is many times slower on small machines (FACTS.md).
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** Distinct (physical id, core id) pairs in /proc/cpuinfo; undefined when it has none. */
export function physicalCoresFromCpuinfo(cpuinfo: string): number | undefined {
  const cores = new Set<string>();
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    const physical = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1] ?? "0";
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (core !== undefined) cores.add(`${physical}:${core}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

export function physicalCores(): number {
  if (process.platform === "linux") {
    try {
      const count = physicalCoresFromCpuinfo(readFileSync("/proc/cpuinfo", "utf8"));
      if (count) return Math.min(count, availableParallelism());
    } catch {
      // Not readable (a restricted container): fall through to the logical count.
    }
  }
  if (process.platform === "darwin") {
    const result = Bun.spawnSync(["sysctl", "-n", "hw.physicalcpu"], { stderr: "ignore" });
    const count = Number(result.stdout.toString().trim());
    if (result.exitCode === 0 && count > 0) return count;
  }
  return availableParallelism();
}
