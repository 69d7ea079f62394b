/**
 * The spec against real OCI runtimes, as root: a busybox image pulled from a local registry, its
 * overlay rootfs assembled in a box directory, config.json written, `crun run` (and runc and runsc
 * where installed) started through runtimeCommand.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxLayer, pushImage } from "../../../tests/fixtures/images.ts";
import { type Registry, startRegistry } from "../../../tests/fixtures/registry.ts";
import { pathsFor } from "../../core/paths.ts";
import { type BoxContext, openBoxContext } from "../context.ts";
import type { ImageRecord } from "../oci/images.ts";
import { pullImage } from "../oci/pull.ts";
import { assembleRootfs, destroyRootfs, overlaySupported } from "../oci/rootfs.ts";
import { writeEtcFiles } from "./mounts.ts";
import { detectHybridCgroups, hostNofileHardLimit, type OciRuntime, runtimeCommand } from "./oci-cli.ts";
import { mergeEnv, parseEnvList, parseMemory, parsePidsLimit, parseUser, parseVolume } from "./options.ts";
import { buildSpec, type OciSpec, resolveCommand, resolveWorkdir, type SpecInput } from "./spec.ts";

const skipReason =
  process.getuid?.() !== 0
    ? "needs root (OCI runtimes create namespaces and cgroups; CI runs these tests as root)"
    : !Bun.which("crun")
      ? "crun is not installed"
      : !overlaySupported()
        ? "overlayfs is not available"
        : undefined;
if (skipReason) console.warn(`skipping the crun integration tests: ${skipReason}`);

let registry: Registry;
let box: BoxContext;
let image: ImageRecord;
const hybridCgroups = skipReason ? false : detectHybridCgroups();
const stateRoot = mkdtempSync(join(tmpdir(), "a3s-crun-state-"));
let sequence = 0;
const timings: number[] = [];

beforeAll(async () => {
  if (skipReason) return;
  registry = await startRegistry();
  await pushImage(registry, "test/busybox", "1", {
    layers: [busyboxLayer()],
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=image", "BAR=image"],
      Cmd: ["sh"],
    },
  });
  box = openBoxContext(pathsFor(mkdtempSync(join(tmpdir(), "a3s-crun-"))), {});
  image = (await pullImage(box, { reference: `${registry.host}/test/busybox:1` })).image;
});

afterAll(async () => {
  await registry?.stop();
  if (timings.length > 0) {
    const sorted = [...timings].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `crun run: ${timings.length} boxes, median ${median} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms`,
    );
  }
  rmSync(stateRoot, { recursive: true, force: true });
});

interface BoxOptions {
  cmd: string[];
  env?: string[];
  user?: string;
  volumes?: string[];
  readOnly?: boolean;
  memory?: string;
  pidsLimit?: string;
  runtime?: OciRuntime;
  /** Changes to the spec after buildSpec (to prove what the spec's own defaults do). */
  patch?: (spec: OciSpec) => void;
  input?: Partial<SpecInput>;
}

interface BoxResult {
  id: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

async function runBox(options: BoxOptions): Promise<BoxResult> {
  const runtime = options.runtime ?? "crun";
  const id = `a3s-spec-${process.pid}-${++sequence}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), "a3s-box-"));
  const rootfs = await assembleRootfs(box, image, dir);
  const cmd = (args: string[]) =>
    runtimeCommand(runtime, ["--root", join(stateRoot, runtime), ...args], {
      hybridCgroups,
    });
  try {
    const config = image.config.config;
    const user = parseUser(options.user ?? config?.User ?? "", rootfs.path);
    const hostname = id.slice(0, 12);
    const spec = buildSpec({
      id,
      rootfs: rootfs.path,
      readOnly: options.readOnly,
      args: resolveCommand(config, { cmd: options.cmd }),
      env: mergeEnv(config?.Env ?? [], parseEnvList(options.env ?? [], {}), { hostname, home: user.home }),
      cwd: resolveWorkdir(config),
      user,
      hostname,
      volumes: (options.volumes ?? []).map(parseVolume),
      etcFiles: writeEtcFiles(dir, hostname),
      resources: {
        memory: options.memory ? parseMemory(options.memory) : undefined,
        pids: options.pidsLimit ? parsePidsLimit(options.pidsLimit) : undefined,
      },
      nofileHardLimit: hostNofileHardLimit(),
      ...options.input,
    });
    options.patch?.(spec);
    writeFileSync(join(dir, "config.json"), JSON.stringify(spec, null, 2));
    const started = performance.now();
    const proc = Bun.spawn(cmd(["run", "--bundle", dir, id]), {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (runtime === "crun") timings.push(Math.round(performance.now() - started));
    return { id, stdout, stderr, exitCode };
  } finally {
    Bun.spawnSync(cmd(["delete", "-f", id]), { stdout: "ignore", stderr: "ignore" });
    rootfs.release();
    destroyRootfs(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

const sh = (script: string) => ["sh", "-c", script];

describe.skipIf(skipReason !== undefined)("crun runs the spec", () => {
  test("output and exit code", async () => {
    const result = await runBox({ cmd: sh("echo hello; echo oops >&2; exit 3") });
    expect(result).toMatchObject({ stdout: "hello\n", stderr: "oops\n", exitCode: 3 });
  });

  test("the image's Cmd runs when no command is given", async () => {
    // Cmd is ["sh"]: with stdin closed it exits 0 at once.
    const result = await runBox({ cmd: [] });
    expect(result.exitCode).toBe(0);
  });

  test("hostname is the box's, and /etc/hosts names it", async () => {
    const result = await runBox({ cmd: sh("hostname; cat /etc/hostname; tail -n 1 /etc/hosts") });
    const hostname = result.id.slice(0, 12);
    expect(result.stdout).toBe(`${hostname}\n${hostname}\n127.0.0.1\t${hostname}\n`);
  });

  test("PID namespace: ps shows only the box's processes", async () => {
    const result = await runBox({ cmd: sh("ps -o pid,args; true") });
    const [header, ...lines] = result.stdout.trim().split("\n");
    expect(header?.trim()).toBe("PID   COMMAND");
    expect(lines.map((line) => line.trim().split(/\s+/)[0])).toEqual(["1", "2"]);
    expect(lines[0]).toContain("sh -c ps -o pid,args; true");
  });

  test("the host's /etc is not visible; only loopback in the network namespace", async () => {
    const hostOnly = ["/etc/debian_version", "/etc/os-release", "/etc/shadow"].find((path) =>
      existsSync(path),
    );
    expect(hostOnly).toBeDefined();
    const result = await runBox({
      cmd: sh(`test -e ${hostOnly} && echo visible || echo hidden; cat /proc/net/dev`),
    });
    expect(result.stdout.split("\n")[0]).toBe("hidden");
    const interfaces = result.stdout.split("\n").slice(3).filter(Boolean);
    expect(interfaces.map((line) => line.trim().split(":")[0])).toEqual(["lo"]);
  });

  test("environment: user -e over the image's, plus PATH, HOSTNAME and HOME", async () => {
    const result = await runBox({ cmd: ["env"], env: ["FOO=user", "NEW=1"] });
    const env = result.stdout.trim().split("\n").sort();
    expect(env).toEqual(
      [
        "BAR=image",
        "FOO=user",
        "HOME=/root",
        `HOSTNAME=${result.id.slice(0, 12)}`,
        "NEW=1",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ].sort(),
    );
  });

  test("volumes: ro cannot be written, rw can", async () => {
    const ro = realpathSync(mkdtempSync(join(tmpdir(), "a3s-ro-")));
    const rw = realpathSync(mkdtempSync(join(tmpdir(), "a3s-rw-")));
    writeFileSync(join(ro, "given"), "from host\n");
    const result = await runBox({
      cmd: sh("cat /ro/given; touch /ro/new && echo ro-writable; touch /rw/new && echo rw-ok"),
      volumes: [`${ro}:/ro:ro`, `${rw}:/rw`],
    });
    expect(result.stdout).toBe("from host\nrw-ok\n");
    expect(result.stderr).toMatch(/touch: \/ro\/new: Read-only file system/);
    expect(existsSync(join(ro, "new"))).toBe(false);
    expect(existsSync(join(rw, "new"))).toBe(true);
  });

  test("--read-only root: only /tmp (a tmpfs) and volumes are writable", async () => {
    const result = await runBox({ cmd: sh("touch /x; touch /tmp/x && echo tmp-ok"), readOnly: true });
    expect(result.stdout).toBe("tmp-ok\n");
    expect(result.stderr).toMatch(/touch: \/x: Read-only file system/);
  });

  test("-u 65534:65534", async () => {
    const result = await runBox({ cmd: ["id"], user: "65534:65534" });
    expect(result.stdout).toBe("uid=65534(nobody) gid=65534(nobody)\n");
  });

  test("a 32m memory limit kills a growing shell (137)", async () => {
    const result = await runBox({
      cmd: sh("s=xxxxxxxxxxxxxxxx; while true; do s=$s$s; done"),
      memory: "32m",
    });
    expect(result.exitCode).toBe(137);
  });

  test("a pids limit blocks forks", async () => {
    // The subshell dies at the first refused fork; the box's shell carries on.
    const script = "(for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done; echo all-forked); echo after";
    const result = await runBox({ cmd: sh(script), pidsLimit: "8" });
    expect(result).toMatchObject({ stdout: "after\n", exitCode: 0 });
    expect(result.stderr).toMatch(/can't fork: Resource temporarily unavailable/);
    const unlimited = await runBox({ cmd: sh(script) });
    expect(unlimited.stdout).toBe("all-forked\nafter\n");
  });

  test("capabilities are Docker's default set", async () => {
    const result = await runBox({ cmd: sh("grep -E '^Cap(Eff|Prm|Bnd|Inh|Amb)' /proc/self/status") });
    expect(result.stdout).toBe(
      "CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n",
    );
  });

  test("seccomp blocks mount even with CAP_SYS_ADMIN, and new namespaces; ordinary calls work", async () => {
    const addSysAdmin = (spec: OciSpec) => {
      for (const set of ["bounding", "effective", "permitted"] as const)
        spec.process.capabilities[set].push("CAP_SYS_ADMIN");
    };
    const script =
      "busybox mount -t tmpfs none /tmp && echo mounted; busybox unshare -Ur true && echo unshared; echo ok";
    const confined = await runBox({ cmd: sh(script), patch: addSysAdmin });
    expect(confined.stdout).toBe("ok\n");
    expect(confined.stderr).toMatch(/mount: permission denied/);
    expect(confined.stderr).toMatch(/unshare\(0x[0-9a-f]+\): Operation not permitted/);
    // The same box without the filter: both succeed, so it is the filter that refused them.
    const unconfined = await runBox({ cmd: sh(script), patch: addSysAdmin, input: { seccomp: null } });
    expect(unconfined.stdout).toBe("mounted\nunshared\nok\n");
    const filtered = await runBox({ cmd: sh("grep '^Seccomp:' /proc/self/status") });
    expect(filtered.stdout).toBe("Seccomp:\t2\n");
  });

  test("user namespace: identity mapping, image files keep their owners, rlimit as set", async () => {
    const result = await runBox({
      cmd: sh(
        "cat /proc/self/uid_map; stat -c '%u:%g' /bin/busybox /tmp; ulimit -n; ulimit -Hn; readlink /proc/self/ns/user",
      ),
    });
    expect(result.stdout.split("\n").map((line) => line.trim().split(/\s+/).join(" "))).toEqual([
      "0 0 4294967295",
      "0:0",
      "0:0",
      "1024",
      "1024",
      expect.stringMatching(/^user:\[\d+\]$/),
      "",
    ]);
    const hostUserNs = readlinkUserNs();
    expect(result.stdout).not.toContain(hostUserNs);
    const without = await runBox({ cmd: sh("readlink /proc/self/ns/user"), input: { userns: false } });
    expect(without.stdout.trim()).toBe(hostUserNs);
  });

  test("what the user namespace keeps and costs: ping and chown work, mknod does not", async () => {
    const script =
      "ping -c 1 -W 1 127.0.0.1 >/dev/null && echo ping; chown 65534:65534 /tmp && echo chown; " +
      "mknod /tmp/null c 1 3 && echo mknod; true";
    expect((await runBox({ cmd: sh(script) })).stdout).toBe("ping\nchown\n");
    expect((await runBox({ cmd: sh(script), input: { userns: false } })).stdout).toBe("ping\nchown\nmknod\n");
  });

  test("cpu quota reaches the box's cgroup", async () => {
    const result = await runBox({
      cmd: sh("cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us"),
      input: { resources: { cpu: { quota: 50_000, period: 100_000 } } },
    });
    expect(result.stdout).toBe("50000\n100000\n");
  });
});

function readlinkUserNs(): string {
  return Bun.spawnSync(["readlink", "/proc/self/ns/user"]).stdout.toString().trim();
}

describe.skipIf(skipReason !== undefined)("other runtimes run the same spec", () => {
  for (const runtime of ["runc", "runsc"] as const) {
    test(runtime, async () => {
      if (!Bun.which(runtime)) {
        console.warn(`skipping ${runtime}: not installed`);
        return;
      }
      const result = await runBox({ cmd: sh("echo hi; hostname; id -u"), runtime, user: "65534" });
      expect(result.stderr).toBe("");
      expect(result).toMatchObject({ stdout: `hi\n${result.id.slice(0, 12)}\n65534\n`, exitCode: 0 });
    });
  }
});
