import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectUsage } from "../../../tests/expect-error.ts";
import type { A3sError } from "../../core/errors.ts";
import type { HostSystem } from "../host.ts";
import { hostsFile, writeEtcFiles } from "./mounts.ts";
import {
  detectHybridCgroups,
  hostSupportsCgroupNamespace,
  parseNofileHardLimit,
  runtimeCommand,
} from "./oci-cli.ts";
import { defaultSeccomp } from "./seccomp.ts";
import { buildSpec, DEFAULT_CAPABILITIES, resolveCommand, resolveWorkdir, type SpecInput } from "./spec.ts";

const tmp = (prefix: string) => realpathSync(mkdtempSync(join(tmpdir(), prefix)));

describe("command and working directory", () => {
  const image = { Entrypoint: ["/entry.sh"], Cmd: ["serve", "--port", "80"] };
  test.each([
    ["image entrypoint + image cmd", image, {}, ["/entry.sh", "serve", "--port", "80"]],
    ["user cmd replaces image cmd", image, { cmd: ["sh"] }, ["/entry.sh", "sh"]],
    ["--entrypoint drops the image cmd", image, { entrypoint: "/bin/sh" }, ["/bin/sh"]],
    [
      "--entrypoint with user cmd",
      image,
      { entrypoint: "/bin/sh", cmd: ["-c", "id"] },
      ["/bin/sh", "-c", "id"],
    ],
    ['--entrypoint "" with user cmd', image, { entrypoint: "", cmd: ["ls"] }, ["ls"]],
    ["cmd only image", { Cmd: ["sh"] }, {}, ["sh"]],
    ["cmd only image, user cmd", { Cmd: ["sh"] }, { cmd: ["echo", "hi"] }, ["echo", "hi"]],
    ["entrypoint only image", { Entrypoint: ["/e"], Cmd: null }, {}, ["/e"]],
    ["--entrypoint keeps spaces in one argument", {}, { entrypoint: "/my prog" }, ["/my prog"]],
    ["empty user cmd is no cmd", { Cmd: ["sh"] }, { cmd: [] }, ["sh"]],
  ])("%s", (_name, config, options, args) => {
    expect(resolveCommand(config, options)).toEqual(args);
  });

  test.each([
    ["nothing at all", undefined, {}],
    ["empty image", { Entrypoint: null, Cmd: null }, {}],
    ['--entrypoint "" without cmd', image, { entrypoint: "" }],
  ])("%s: no command specified, exit 125", (_name, config, options) => {
    let error: A3sError | undefined;
    try {
      resolveCommand(config, options);
    } catch (err) {
      error = err as A3sError;
    }
    expect(error?.message).toBe("no command specified");
    expect(error?.code).toBe("usage");
    expect(error?.exitCode).toBe(125);
  });

  test("working directory", () => {
    expect(resolveWorkdir(undefined)).toBe("/");
    expect(resolveWorkdir({ WorkingDir: "/app/" })).toBe("/app/");
    expect(resolveWorkdir({ WorkingDir: "app" })).toBe("/app");
    expect(resolveWorkdir({ WorkingDir: "/app" }, "/work/../srv")).toBe("/srv");
    expectUsage(() => resolveWorkdir(undefined, "rel"), /'rel'.*absolute/);
  });
});

describe("buildSpec", () => {
  const base: SpecInput = {
    id: "0123456789abcdef0123",
    rootfs: "/boxes/b1/rootfs",
    args: ["sh"],
    env: ["PATH=/bin"],
    cwd: "/",
    user: { uid: 0, gid: 0 },
    etcFiles: {
      hostname: "/boxes/b1/hostname",
      hosts: "/boxes/b1/hosts",
      resolvConf: "/boxes/b1/resolv.conf",
    },
  };

  test("defaults: Docker's namespaces, mounts, capabilities and paths, plus a user namespace", () => {
    const spec = buildSpec(base);
    expect(spec.ociVersion).toBe("1.0.2");
    expect(spec.hostname).toBe("0123456789ab");
    expect(spec.root).toEqual({ path: "/boxes/b1/rootfs", readonly: false });
    expect(spec.linux.namespaces.map((ns) => ns.type)).toEqual([
      "pid",
      "mount",
      "ipc",
      "uts",
      "network",
      "cgroup",
      "user",
    ]);
    expect(spec.linux.uidMappings).toEqual([{ containerID: 0, hostID: 0, size: 4294967295 }]);
    expect(spec.linux.gidMappings).toEqual(spec.linux.uidMappings);
    expect(spec.linux.cgroupsPath).toBe("/a3s/0123456789abcdef0123");
    expect(spec.process.capabilities.bounding).toEqual([...DEFAULT_CAPABILITIES]);
    expect(spec.process.capabilities.effective).toEqual([...DEFAULT_CAPABILITIES]);
    expect(spec.process.capabilities.permitted).toEqual([...DEFAULT_CAPABILITIES]);
    expect(spec.process.capabilities.inheritable).toEqual([]);
    expect(spec.process).not.toHaveProperty("capabilities.ambient");
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }]);
    expect(spec.process.user).toEqual({ uid: 0, gid: 0 });
    expect(spec.linux.maskedPaths).toContain("/proc/kcore");
    expect(spec.linux.readonlyPaths).toEqual([
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger",
    ]);
    expect(spec.linux.resources.memory).toBeUndefined();
    expect(spec.linux.resources.devices[0]).toEqual({ allow: false, access: "rwm" });
    expect(spec.linux.seccomp).toEqual(defaultSeccomp());
    expect(spec).not.toHaveProperty("hooks");
    expect(spec.mounts.map((m) => `${m.destination} ${m.type} ${m.source} ${m.options?.join(",")}`)).toEqual([
      "/proc proc proc nosuid,noexec,nodev",
      "/dev tmpfs tmpfs nosuid,strictatime,mode=755,size=65536k",
      "/dev/pts devpts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
      "/sys sysfs sysfs nosuid,noexec,nodev,ro",
      "/sys/fs/cgroup cgroup cgroup ro,nosuid,noexec,nodev",
      "/dev/mqueue mqueue mqueue nosuid,noexec,nodev",
      "/dev/shm tmpfs shm nosuid,noexec,nodev,mode=1777,size=67108864",
      "/etc/hostname bind /boxes/b1/hostname rbind,rprivate",
      "/etc/hosts bind /boxes/b1/hosts rbind,rprivate",
      "/etc/resolv.conf bind /boxes/b1/resolv.conf rbind,rprivate",
    ]);
  });

  test("the capability set is Docker's: CapEff 00000000a80425fb", () => {
    // biome-ignore format: a table
    const numbers: Record<string, number> = {
      CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6,
      CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_NET_BIND_SERVICE: 10, CAP_NET_RAW: 13, CAP_SYS_CHROOT: 18,
      CAP_MKNOD: 27, CAP_AUDIT_WRITE: 29, CAP_SETFCAP: 31,
    };
    const mask = DEFAULT_CAPABILITIES.reduce((sum, cap) => sum + 2 ** numbers[cap]!, 0);
    expect(mask.toString(16).padStart(16, "0")).toBe("00000000a80425fb");
  });

  test("limits, user, terminal, hostname and cgroup path", () => {
    const spec = buildSpec({
      ...base,
      hostname: "web",
      terminal: true,
      user: { uid: 1000, gid: 1000, additionalGids: [10] },
      resources: { memory: 32 * 1024 ** 2, cpu: { quota: 50_000, period: 100_000 }, pids: 64 },
      cgroupsPath: "/custom/x",
      nofileHardLimit: 512,
    });
    expect(spec.hostname).toBe("web");
    expect(spec.process.terminal).toBe(true);
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [10] });
    expect(spec.linux.resources.memory).toEqual({ limit: 33554432, swap: 33554432 });
    expect(spec.linux.resources.cpu).toEqual({ quota: 50_000, period: 100_000 });
    expect(spec.linux.resources.pids).toEqual({ limit: 64 });
    expect(spec.linux.cgroupsPath).toBe("/custom/x");
    // Never above the host's hard limit, or the runtime fails to start the box.
    expect(spec.process.rlimits).toEqual([{ type: "RLIMIT_NOFILE", hard: 512, soft: 512 }]);
  });

  test("host network: no network namespace, and no user namespace unless asked for", () => {
    const spec = buildSpec({ ...base, network: "host" });
    expect(spec.linux.namespaces.map((ns) => ns.type)).toEqual(["pid", "mount", "ipc", "uts", "cgroup"]);
    expect(spec.linux.uidMappings).toBeUndefined();
    expect(spec.mounts.find((m) => m.destination === "/sys")?.type).toBe("sysfs");
    const userns = buildSpec({ ...base, network: "host", userns: true });
    expect(userns.linux.namespaces.map((ns) => ns.type)).toContain("user");
    expect(userns.mounts.find((m) => m.destination === "/sys")).toEqual({
      destination: "/sys",
      type: "bind",
      source: "/sys",
      options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
    });
  });

  test("namespace and seccomp switches", () => {
    const spec = buildSpec({ ...base, userns: false, cgroupns: false, seccomp: null });
    expect(spec.linux.namespaces.map((ns) => ns.type)).toEqual(["pid", "mount", "ipc", "uts", "network"]);
    expect(spec.linux.uidMappings).toBeUndefined();
    expect(spec.linux.seccomp).toBeUndefined();
  });

  test("read-only root: /tmp is a tmpfs and the /etc files are read-only", () => {
    const spec = buildSpec({ ...base, readOnly: true });
    expect(spec.root.readonly).toBe(true);
    expect(spec.mounts.find((m) => m.destination === "/tmp")).toEqual({
      destination: "/tmp",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "nodev", "mode=1777"],
    });
    expect(spec.mounts.find((m) => m.destination === "/etc/hosts")?.options).toEqual([
      "rbind",
      "rprivate",
      "ro",
    ]);
    expect(buildSpec(base).mounts.some((m) => m.destination === "/tmp")).toBe(false);
  });

  test("volumes: bind mounts ordered parent first, replacing a default at the same place", () => {
    const spec = buildSpec({
      ...base,
      volumes: [
        { source: "/h/deep", destination: "/data/deep", readOnly: true, propagation: "rprivate" },
        { source: "/h/data", destination: "/data", readOnly: false, propagation: "rslave" },
        { source: "/h/shm", destination: "/dev/shm", readOnly: false, propagation: "rprivate" },
      ],
    });
    const shm = spec.mounts.filter((m) => m.destination === "/dev/shm");
    expect(shm).toEqual([
      { destination: "/dev/shm", type: "bind", source: "/h/shm", options: ["rbind", "rprivate"] },
    ]);
    expect(spec.mounts.slice(-6).map((m) => [m.destination, m.options?.join(",")])).toEqual([
      ["/data", "rbind,rslave"],
      ["/etc/hostname", "rbind,rprivate"],
      ["/etc/hosts", "rbind,rprivate"],
      ["/etc/resolv.conf", "rbind,rprivate"],
      ["/data/deep", "rbind,rprivate,ro"],
      ["/dev/shm", "rbind,rprivate"],
    ]);
    // A volume over /etc comes before a3s's /etc files; one over /etc/hosts replaces a3s's.
    const etc = buildSpec({
      ...base,
      volumes: [
        { source: "/h/hosts", destination: "/etc/hosts", readOnly: true, propagation: "rprivate" },
        { source: "/h/etc", destination: "/etc", readOnly: false, propagation: "rprivate" },
      ],
    });
    expect(etc.mounts.slice(-4).map((m) => `${m.destination} ${m.source}`)).toEqual([
      "/etc /h/etc",
      "/etc/hostname /boxes/b1/hostname",
      "/etc/resolv.conf /boxes/b1/resolv.conf",
      "/etc/hosts /h/hosts",
    ]);
  });

  test("seccomp: a denylist with clone's namespace flags and personality guarded by argument", () => {
    const seccomp = defaultSeccomp("x64");
    expect(seccomp.defaultAction).toBe("SCMP_ACT_ALLOW");
    expect(seccomp.architectures).toEqual(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
    expect(defaultSeccomp("arm64").architectures).toEqual(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
    const denied = seccomp.syscalls[0]!;
    expect(denied).toMatchObject({ action: "SCMP_ACT_ERRNO", errnoRet: 1 });
    for (const name of [
      "mount",
      "umount2",
      "pivot_root",
      "kexec_load",
      "init_module",
      "bpf",
      "keyctl",
      "setns",
      "unshare",
    ]) {
      expect(denied.names).toContain(name);
    }
    expect(denied.names).not.toContain("ptrace");
    const clone = seccomp.syscalls.filter((rule) => rule.names[0] === "clone");
    const bits = clone.reduce((mask, rule) => mask | rule.args![0]!.value, 0);
    expect(bits).toBe(0x7e020000);
    for (const rule of clone) {
      expect(rule.args).toEqual([
        { index: 0, value: rule.args![0]!.value, valueTwo: rule.args![0]!.value, op: "SCMP_CMP_MASKED_EQ" },
      ]);
    }
    expect(seccomp.syscalls.find((rule) => rule.names[0] === "clone3")).toMatchObject({ errnoRet: 38 });
    // personality: refused above 8 and whenever bit 0, 1 or 2 is set, so only 0 and 8 pass.
    const personality = seccomp.syscalls.filter((rule) => rule.names[0] === "personality");
    const refused = (value: number) =>
      personality.some(({ args: [arg] = [] }) =>
        arg!.op === "SCMP_CMP_GT" ? value > arg!.value : (value & arg!.value) === arg!.valueTwo,
      );
    const allowed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x20000, 0xffffffff].filter((value) => !refused(value));
    expect(allowed).toEqual([0, 8]);
  });
});

describe("runtime command line", () => {
  test("crun on a hybrid cgroup host runs inside a private mount namespace without the v2 mount", () => {
    expect(runtimeCommand("crun", ["run", "--bundle", "/b", "id"], { hybridCgroups: true })).toEqual([
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"',
      "sh",
      "crun",
      "run",
      "--bundle",
      "/b",
      "id",
    ]);
    expect(runtimeCommand("crun", ["delete", "-f", "id"], { hybridCgroups: false })).toEqual([
      "crun",
      "delete",
      "-f",
      "id",
    ]);
    expect(runtimeCommand("runc", ["run", "id"], { hybridCgroups: true, binary: "/usr/sbin/runc" })).toEqual([
      "/usr/sbin/runc",
      "run",
      "id",
    ]);
    expect(runtimeCommand("runsc", ["run", "id"], { hybridCgroups: true })).toEqual([
      "runsc",
      "--network=none",
      "run",
      "id",
    ]);
    expect(runtimeCommand("runsc", ["run", "id"], { hybridCgroups: false, network: "host" })[1]).toBe(
      "--network=host",
    );
  });

  function fakeHost(files: Record<string, string>): HostSystem {
    return {
      arch: "x64",
      readText: (path) => files[path],
      exists: (path) => path in files,
      openReadWrite: () => "ENOENT",
      which: () => undefined,
      run: () => ({ ok: false, output: "" }),
    };
  }

  test("hybrid detection: only when the v2 hierarchy of a hybrid layout holds controllers", () => {
    const mountinfo = [
      "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
      "31 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
    ].join("\n");
    const hybrid = {
      "/proc/self/mountinfo": mountinfo,
      "/sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n",
    };
    expect(detectHybridCgroups(fakeHost(hybrid))).toBe(true);
    expect(
      detectHybridCgroups(fakeHost({ ...hybrid, "/sys/fs/cgroup/unified/cgroup.controllers": "\n" })),
    ).toBe(false);
    const v2 = {
      "/proc/self/mountinfo": "31 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw",
      "/sys/fs/cgroup/cgroup.controllers": "cpu memory",
    };
    expect(detectHybridCgroups(fakeHost(v2))).toBe(false);
  });

  test("cgroup namespace support", () => {
    expect(hostSupportsCgroupNamespace(fakeHost({ "/proc/self/ns/cgroup": "" }))).toBe(true);
    expect(hostSupportsCgroupNamespace(fakeHost({}))).toBe(false);
  });

  test("the host's hard open-files limit", () => {
    const limits =
      "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 20000                files\n";
    expect(parseNofileHardLimit(limits)).toBe(20000);
    expect(parseNofileHardLimit(limits.replace("20000", "unlimited"))).toBeUndefined();
    expect(parseNofileHardLimit("")).toBeUndefined();
  });
});

describe("/etc files", () => {
  test("hostname, hosts and a copy of the host's resolv.conf", () => {
    const dir = tmp("a3s-etc-");
    const source = join(dir, "host-resolv.conf");
    writeFileSync(source, "nameserver 10.0.0.53\nsearch example.org\n");
    const files = writeEtcFiles(join(dir, "box"), "abc123", { resolvConfSource: source });
    expect(readFileSync(files.hostname, "utf8")).toBe("abc123\n");
    expect(readFileSync(files.hosts, "utf8")).toBe(hostsFile("abc123"));
    expect(hostsFile("abc123")).toMatch(/^127\.0\.0\.1\tlocalhost\n[\s\S]*\n127\.0\.0\.1\tabc123\n$/);
    expect(readFileSync(files.resolvConf, "utf8")).toBe("nameserver 10.0.0.53\nsearch example.org\n");
    expect(statSync(files.hosts).mode & 0o777).toBe(0o644);
  });

  test("no resolv.conf on the host: an empty one", () => {
    const dir = tmp("a3s-etc-");
    const files = writeEtcFiles(dir, "h", { resolvConfSource: join(dir, "missing") });
    expect(readFileSync(files.resolvConf, "utf8")).toBe("");
  });
});
