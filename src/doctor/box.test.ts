import { describe, expect, test } from "bun:test";
import { type HostReport, probeHost } from "../box/host.ts";
import { boxChecks } from "./box.ts";

// The development machine as the probes see it: PVM, hybrid cgroups with hugetlb on v2, crun and runc.
const HOST_FILES: Record<string, string> = {
  "/proc/cpuinfo": "flags\t\t: fpu vme hypervisor vmmcall\n",
  "/sys/module/kvm_pvm": "",
  "/proc/self/mountinfo": [
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
  ].join("\n"),
  "/sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n",
};
const VERSIONS: Record<string, string> = { crun: "crun version 1.8.1\n", runc: "runc version 1.1.5+ds1\n" };

function developmentMachine(): HostReport {
  return probeHost(
    {
      arch: "x64",
      readText: (path) => HOST_FILES[path],
      exists: (path) => path in HOST_FILES,
      openReadWrite: () => undefined,
      which: (name) => (name in VERSIONS ? `/usr/bin/${name}` : undefined),
      run: (file) => ({ ok: true, output: VERSIONS[file.replace("/usr/bin/", "")] ?? "" }),
    },
    "/home/u/.a3s/kernel/vmlinux",
  );
}

describe("boxChecks", () => {
  const checks = boxChecks(developmentMachine());
  const byName = (name: string) => checks.find((check) => check.name === name);

  test("one check per probe, all in the box subsystem", () => {
    expect(checks.map((check) => check.name)).toEqual([
      "kvm",
      "qemu",
      "rootfs tools",
      "oci runtimes",
      "cgroups",
      "guest kernel",
    ]);
    expect(checks.every((check) => check.subsystem === "box")).toBe(true);
  });

  test("crun on a hybrid layout with v2 controllers: a note on how a3s runs it, not a problem", () => {
    expect(byName("oci runtimes")).toMatchObject({
      status: "ok",
      summary:
        "crun 1.8.1 (default; run without the cgroup v2 mount: it refuses this hybrid layout), runc 1.1.5+ds1",
    });
  });

  test("limits through v1 are fine; a missing kernel is only information", () => {
    expect(byName("cgroups")).toMatchObject({
      status: "ok",
      summary: "hybrid v1 + v2; memory limits through v1, cpu limits through v1",
    });
    expect(byName("kvm")?.status).toBe("warn");
    expect(byName("guest kernel")).toMatchObject({
      status: "info",
      summary: "none at /home/u/.a3s/kernel/vmlinux",
    });
  });
});
