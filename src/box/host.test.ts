import { describe, expect, test } from "bun:test";
import {
  type CommandResult,
  cgroupLayout,
  cpuVirtualization,
  crunRefusesCgroups,
  decideIsolation,
  defaultRuntime,
  describeCgroups,
  type HostSystem,
  type KvmFacts,
  kvmVerdict,
  parseCgroupMounts,
  parseCpuFlags,
  parseVersionLine,
  probeCgroups,
  probeHost,
  probeKvm,
  probeTool,
  qemuBinaryFor,
} from "./host.ts";

// Captured from the development machine: a Firecracker VM with v1 controllers and a v2 mount that holds
// only hugetlb. The first lines are other filesystems, which the parser must skip.
const HYBRID_MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// systemd's default since 2021: one unified hierarchy, optional fields before the separator.
const V2_MOUNTINFO = `25 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

// Older distributions: controllers co-mounted in pairs, no v2 at all.
const V1_MOUNTINFO = `26 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:5 - tmpfs tmpfs ro,mode=755
27 26 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,xattr,name=systemd
30 26 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
31 26 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory
32 26 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_cls,net_prio
`;

const AMD_HOST_FLAGS = "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic svm extapic cr8_legacy abm npt";
const INTEL_VM_FLAGS = "flags\t\t: fpu vme de pse tsc msr vmx hypervisor ept vpid";
// The development machine: a VM whose CPU shows no vmx/svm while kvm_pvm provides /dev/kvm.
const PVM_GUEST_CPUINFO = `processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep hypervisor lahf_lm cmp_legacy vmmcall avx512f
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep hypervisor lahf_lm cmp_legacy vmmcall avx512f
`;

describe("parseCgroupMounts and describeCgroups", () => {
  test("hybrid layout as on the development machine: limits through v1", () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO);
    expect(mounts).toHaveLength(10);
    expect(cgroupLayout(mounts)).toBe("hybrid");
    const status = describeCgroups(mounts, ["hugetlb"]);
    expect(status).toEqual({
      layout: "hybrid",
      v1Controllers: ["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"],
      v2Path: "/sys/fs/cgroup/unified",
      v2Controllers: ["hugetlb"],
      memoryLimit: "v1",
      cpuLimit: "v1",
    });
  });

  test("crun refuses the hybrid layout only while v2 holds controllers", () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO);
    expect(crunRefusesCgroups(describeCgroups(mounts, ["hugetlb"]))).toBe(true);
    expect(crunRefusesCgroups(describeCgroups(mounts, []))).toBe(false);
    expect(crunRefusesCgroups(describeCgroups(parseCgroupMounts(V2_MOUNTINFO), ["memory"]))).toBe(false);
  });

  test("pure v2: limits through v2 when the controllers are delegated", () => {
    const mounts = parseCgroupMounts(V2_MOUNTINFO);
    expect(mounts).toEqual([{ version: 2, path: "/sys/fs/cgroup", controllers: [] }]);
    const status = describeCgroups(mounts, ["cpuset", "cpu", "io", "memory", "pids"]);
    expect(status.layout).toBe("v2");
    expect(status.memoryLimit).toBe("v2");
    expect(status.cpuLimit).toBe("v2");
    expect(status.v1Controllers).toEqual([]);
  });

  test("pure v2 without delegated controllers offers no limits", () => {
    const status = describeCgroups(parseCgroupMounts(V2_MOUNTINFO), []);
    expect(status.memoryLimit).toBeNull();
    expect(status.cpuLimit).toBeNull();
  });

  test("pure v1: co-mounted controllers are split, name= hierarchies carry none", () => {
    const mounts = parseCgroupMounts(V1_MOUNTINFO);
    expect(cgroupLayout(mounts)).toBe("v1");
    expect(mounts.map((mount) => mount.controllers)).toEqual([
      [],
      ["cpu", "cpuacct"],
      ["memory"],
      ["net_cls", "net_prio"],
    ]);
    expect(mounts[1]?.path).toBe("/sys/fs/cgroup/cpu,cpuacct");
    const status = describeCgroups(mounts, []);
    expect(status.v2Path).toBeNull();
    expect(status.memoryLimit).toBe("v1");
    expect(status.cpuLimit).toBe("v1");
  });

  test("escaped mount points are decoded and an empty file has no layout", () => {
    const line = "41 31 0:38 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n";
    expect(parseCgroupMounts(line)[0]?.path).toBe("/mnt/my cgroup");
    expect(cgroupLayout(parseCgroupMounts(""))).toBe("none");
  });
});

describe("cpuinfo flags", () => {
  test("an AMD host exposes svm and is not a guest", () => {
    expect(cpuVirtualization(parseCpuFlags(AMD_HOST_FLAGS))).toEqual({
      cpuExtension: "svm",
      hypervisorGuest: false,
    });
  });

  test("an Intel VM with nested virtualisation exposes vmx and the hypervisor flag", () => {
    expect(cpuVirtualization(parseCpuFlags(INTEL_VM_FLAGS))).toEqual({
      cpuExtension: "vmx",
      hypervisorGuest: true,
    });
  });

  test("a PVM guest shows the hypervisor flag but neither vmx nor svm", () => {
    const flags = parseCpuFlags(PVM_GUEST_CPUINFO);
    expect(flags.has("vmmcall")).toBe(true);
    expect(cpuVirtualization(flags)).toEqual({ cpuExtension: null, hypervisorGuest: true });
  });

  test("arm64 names the line Features", () => {
    expect(parseCpuFlags("Features\t: fp asimd evtstrm aes pmull").has("asimd")).toBe(true);
  });
});

describe("kvmVerdict", () => {
  const facts = (overrides: Partial<KvmFacts>): KvmFacts => ({
    arch: "x64",
    device: "ok",
    cpuExtension: "vmx",
    hypervisorGuest: false,
    module: "kvm_intel",
    ...overrides,
  });

  test("real KVM is usable", () => {
    expect(kvmVerdict(facts({}))).toEqual({ usable: true, reason: "/dev/kvm is usable (kvm_intel)" });
  });

  test("PVM without vmx/svm is not usable for ordinary guests", () => {
    const verdict = kvmVerdict(facts({ cpuExtension: null, hypervisorGuest: true, module: "kvm_pvm" }));
    expect(verdict.usable).toBe(false);
    expect(verdict.reason).toContain("kvm_pvm");
    expect(verdict.reason).toContain("no vmx/svm");
    expect(verdict.reason).toContain("TCG");
  });

  test("a missing or inaccessible device says which", () => {
    expect(kvmVerdict(facts({ device: "missing" })).reason).toContain("does not exist");
    expect(kvmVerdict(facts({ device: "EACCES" })).reason).toContain("kvm group");
  });

  test("x86 without vmx/svm is not usable; arm64 has no such flag to require", () => {
    expect(kvmVerdict(facts({ cpuExtension: null, module: null })).usable).toBe(false);
    expect(kvmVerdict(facts({ arch: "arm64", cpuExtension: null, module: null })).usable).toBe(true);
  });
});

describe("parseVersionLine", () => {
  test.each([
    ["qemu", "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7+deb12u5)\nCopyright (c) 2003-2022", "7.2.0"],
    [
      "crun",
      "crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n",
      "1.8.1",
    ],
    ["runc", "runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev", "1.1.5+ds1"],
    ["runsc", "runsc version release-20230102.0\nspec: 1.1.0-rc.1", "release-20230102.0"],
  ])("%s", (_tool, output, version) => {
    expect(parseVersionLine(output)).toBe(version);
  });

  test("only the first line counts", () => {
    expect(parseVersionLine("usage: tool\nversion 2")).toBeUndefined();
  });
});

/** A machine described by its files and executables. */
function fakeHost(machine: {
  files?: Record<string, string>;
  devices?: Record<string, string | undefined>;
  executables?: Record<string, CommandResult>;
}): HostSystem {
  const files = machine.files ?? {};
  const executables = machine.executables ?? {};
  return {
    arch: "x64",
    readText: (path) => files[path],
    exists: (path) => path in files,
    openReadWrite: (path) => (machine.devices && path in machine.devices ? machine.devices[path] : "ENOENT"),
    which: (name) => (name in executables ? `/usr/bin/${name}` : undefined),
    run: (file) =>
      executables[file.replace("/usr/bin/", "")] ?? { ok: false, output: "", error: "not found" },
  };
}

describe("probes on a described machine", () => {
  test("the development machine: PVM, hybrid cgroups, nothing installed → sandbox", () => {
    const host = fakeHost({
      files: {
        "/proc/cpuinfo": PVM_GUEST_CPUINFO,
        "/sys/module/kvm_pvm": "",
        "/proc/self/mountinfo": HYBRID_MOUNTINFO,
        "/sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n",
      },
      devices: { "/dev/kvm": undefined },
      executables: { "mkfs.ext4": { ok: true, output: "" } },
    });
    const report = probeHost(host, "/home/u/.a3s/kernel/vmlinux");
    expect(report.kvm.usable).toBe(false);
    expect(report.kvm.module).toBe("kvm_pvm");
    expect(report.kvm.canBootGuest).toStartWith("unknown");
    expect(report.qemu).toEqual({ name: "qemu-system-x86_64", path: null, version: null });
    expect(report.rootfsTools.map((tool) => tool.path !== null)).toEqual([false, true]);
    expect(report.defaultRuntime).toBeNull();
    expect(report.cgroups.layout).toBe("hybrid");
    expect(report.isolation.mode).toBe("sandbox");
    expect(report.isolation.reason).toContain("/home/u/.a3s/kernel/vmlinux");
  });

  test("a workstation with KVM, QEMU and a kernel → microvm", () => {
    const host = fakeHost({
      files: { "/proc/cpuinfo": INTEL_VM_FLAGS, "/sys/module/kvm_intel": "", "/k/vmlinux": "" },
      devices: { "/dev/kvm": undefined },
      executables: { "qemu-system-x86_64": { ok: true, output: "QEMU emulator version 8.2.2\n" } },
    });
    const report = probeHost(host, "/k/vmlinux");
    expect(report.kvm.reason).toBe("/dev/kvm is usable (kvm_intel, nested)");
    expect(report.qemu.version).toBe("8.2.2");
    expect(report.isolation.mode).toBe("microvm");
  });

  test("/dev/kvm without permission is reported by its errno", () => {
    const host = fakeHost({ files: { "/proc/cpuinfo": AMD_HOST_FLAGS }, devices: { "/dev/kvm": "EACCES" } });
    expect(probeKvm(host).device).toBe("EACCES");
  });

  test("a failing or unparsable version command becomes an error entry, not an exception", () => {
    const host = fakeHost({
      executables: {
        crun: { ok: false, output: "", error: "exited with 1" },
        runc: { ok: true, output: "something else\n" },
      },
    });
    expect(probeTool(host, "crun", ["--version"]).error).toBe("crun --version: exited with 1");
    expect(probeTool(host, "runc", ["--version"]).error).toBe("unrecognised version output: something else");
  });

  test("the default runtime is the first installed in order of preference", () => {
    const found = (name: string) => ({ name, path: `/usr/bin/${name}`, version: "1" });
    const missing = (name: string) => ({ name, path: null, version: null });
    expect(defaultRuntime([missing("crun"), found("runc"), found("runsc")])).toBe("runc");
  });

  test("cgroups without a v2 mount read no controllers file", () => {
    const status = probeCgroups(fakeHost({ files: { "/proc/self/mountinfo": V1_MOUNTINFO } }));
    expect(status.v2Controllers).toEqual([]);
  });

  test("QEMU matches the host architecture", () => {
    expect(qemuBinaryFor("arm64")).toBe("qemu-system-aarch64");
    expect(qemuBinaryFor("x64")).toBe("qemu-system-x86_64");
  });

  test("isolation lists everything microVMs lack", () => {
    const verdict = decideIsolation({
      kvm: { usable: false, reason: "" },
      qemu: { name: "qemu-system-x86_64", path: null, version: null },
      guestKernel: { path: "/k/vmlinux", present: false },
    });
    expect(verdict.reason).toBe(
      "microVMs need KVM, QEMU and a guest kernel: KVM is not usable; qemu-system-x86_64 is not installed; no guest kernel at /k/vmlinux",
    );
  });
});
