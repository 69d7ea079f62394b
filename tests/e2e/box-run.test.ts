/**
 * The box lifecycle through the compiled binary, on real crun, with images from a real registry.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxLayer, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, BINARY, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
let registry: Registry;
let image: string;
let home: string;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error("box run tests need root (crun, overlayfs, cgroups); CI runs as root");
  [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
  await pushImage(registry, "e2e/run", "1", {
    layers: [busyboxLayer()],
    config: { Env: [PATH, "A=image", "B=image"], Cmd: ["sh"] },
  });
  image = `${registry.host}/e2e/run:1`;
  home = tempHome();
  expectExit(await a3s(["box", "pull", "-q", image], { home }), 0);
});
afterAll(async () => {
  const ids = (await a3s(["box", "ps", "-a", "-q", "--no-trunc"], { home })).stdout
    .trim()
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) await a3s(["box", "rm", "-f", ...ids], { home });
  await registry?.stop();
});

const box = (args: string[], stdin?: string) =>
  a3s(["box", ...args], { home, ...(stdin === undefined ? {} : { stdin }) });

describe("box run", () => {
  test("output streams stay separate, the exit code is the command's, --rm leaves nothing", async () => {
    const result = expectExit(
      await box(["run", "--rm", image, "sh", "-c", "echo out; echo err >&2; exit 3"]),
      3,
    );
    expect(result.stdout).toBe("out\n");
    expect(result.stderr).toBe("err\n");
    expect(expectExit(await box(["ps", "-a", "-q"]), 0).stdout).toBe("");
    expect(readdirSync(join(home, "boxes"))).toEqual([]);
  });

  test("options after the image belong to the command", async () => {
    expect(expectExit(await box(["run", "--rm", image, "echo", "-n", "--json", "-d"]), 0).stdout).toBe(
      "--json -d",
    );
  });

  test("-i passes stdin; -t gives a terminal", async () => {
    expect(expectExit(await box(["run", "--rm", "-i", image, "cat"], "piped\n"), 0).stdout).toBe("piped\n");
    expect(
      expectExit(await box(["run", "--rm", "-t", image, "sh", "-c", "test -t 1 && echo tty"]), 0).stdout,
    ).toContain("tty");
  });

  test("-it from a real terminal, even one of unknown size (0×0)", async () => {
    // script(1) gives a3s a pseudo-terminal, as a user's shell would, but without a window size.
    const command = `${BINARY} box run --rm -it ${image} sh -c 'test -t 0 && echo tty-in; echo out; exit 4'`;
    const child = Bun.spawn(["script", "-qec", command, "/dev/null"], {
      env: { ...process.env, A3S_HOME: home },
      stdin: new Blob([""]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(code).toBe(4);
    expect(stdout.replaceAll("\r", "")).toContain("tty-in\nout\n");
  });

  test("-e wins over the image's env; env files are read", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "a3s-env-")), "env");
    writeFileSync(file, "# comment\nC=file\n");
    const result = await box([
      "run",
      "--rm",
      "-e",
      "A=user",
      "--env-file",
      file,
      image,
      "sh",
      "-c",
      "echo $A $B $C",
    ]);
    expect(expectExit(result, 0).stdout).toBe("user image file\n");
  });

  test("isolation: no host processes, no host files, own hostname", async () => {
    const ps = expectExit(await box(["run", "--rm", image, "ps", "-o", "pid,comm"]), 0)
      .stdout.trim()
      .split("\n");
    expect(ps).toEqual(["PID   COMMAND", "    1 ps"]);
    const sentinel = join(mkdtempSync(join(tmpdir(), "a3s-host-")), "secret");
    writeFileSync(sentinel, "host only");
    expectExit(await box(["run", "--rm", image, "cat", sentinel]), 1);
    const hostname = expectExit(
      await box(["run", "--rm", "--hostname", "boxy", image, "hostname"]),
      0,
    ).stdout;
    expect(hostname).toBe("boxy\n");
  });

  test("networks: loopback only by default, the host's with --network host", async () => {
    const interfaces = (text: string) =>
      text
        .split("\n")
        .slice(2)
        .map((line) => line.split(":")[0]?.trim())
        .filter(Boolean);
    const own = expectExit(await box(["run", "--rm", image, "cat", "/proc/net/dev"]), 0).stdout;
    expect(interfaces(own)).toEqual(["lo"]);
    const host = expectExit(
      await box(["run", "--rm", "--network", "host", image, "cat", "/proc/net/dev"]),
      0,
    ).stdout;
    expect(interfaces(host).sort()).toEqual(interfaces(readFileSync("/proc/net/dev", "utf8")).sort());
    expectExit(await box(["run", "--rm", "--network", "bridge", image, "true"]), 125);
  });

  test("-v: read-only mounts cannot be written, read-write ones can", async () => {
    const dir = mkdtempSync(join(tmpdir(), "a3s-vol-"));
    writeFileSync(join(dir, "in"), "from host\n");
    const ro = await box([
      "run",
      "--rm",
      "-v",
      `${dir}:/data:ro`,
      image,
      "sh",
      "-c",
      "cat /data/in; touch /data/x",
    ]);
    expect(ro.code).not.toBe(0);
    expect(ro.stdout).toBe("from host\n");
    expect(existsSync(join(dir, "x"))).toBe(false);
    expectExit(await box(["run", "--rm", "-v", `${dir}:/data`, image, "sh", "-c", "echo hi > /data/out"]), 0);
    expect(readFileSync(join(dir, "out"), "utf8")).toBe("hi\n");
  });

  test("a process over its memory limit is killed (137)", async () => {
    const result = await box([
      "run",
      "--rm",
      "-m",
      "16m",
      image,
      "sh",
      "-c",
      "x=aaaaaaaa; while true; do x=$x$x; done",
    ]);
    expectExit(result, 137);
  });

  test("--read-only root", async () => {
    expect((await box(["run", "--rm", "--read-only", image, "touch", "/etc/x"])).code).not.toBe(0);
    expectExit(await box(["run", "--rm", "--read-only", image, "touch", "/tmp/x"]), 0);
  });
});

describe("detached boxes", () => {
  test("-d, ps, logs, exec, stop, rm", async () => {
    const script = 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done';
    const id = expectExit(
      await box(["run", "-d", "--name", "web", image, "sh", "-c", script]),
      0,
    ).stdout.trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    expect(expectExit(await box(["ps", "--format", "{{.Names}} {{.State}}"]), 0).stdout).toBe(
      "web running\n",
    );
    expect(expectExit(await box(["exec", "web", "sh", "-c", "echo $A; exit 7"]), 7).stdout).toBe("image\n");
    const follow = a3s(["box", "logs", "-f", "web"], { home });
    await Bun.sleep(300);
    expect(expectExit(await box(["stop", "web"]), 0).stdout).toBe("web\n");
    const logs = expectExit(await follow, 0);
    expect(logs.stdout).toBe("started\nbye\n");
    const [state] = expectExit(await box(["inspect", "web"]), 0).json<
      Array<{ State: { Status: string; ExitCode: number } }>
    >();
    expect(state?.State).toMatchObject({ Status: "exited", ExitCode: 0 });
    expectExit(await box(["exec", "web", "true"]), 4);
    expect(expectExit(await box(["rm", "--json", "web"]), 0).json()).toEqual([{ name: "web" }]);
    expectExit(await box(["inspect", "web"]), 3);
  });

  test("start brings a stopped box back with its filesystem; restart too", async () => {
    expectExit(
      await box(["run", "-d", "--name", "again", image, "sh", "-c", "echo run >> /runs; sleep 60"]),
      0,
    );
    expectExit(await box(["stop", "-t", "0", "again"]), 0);
    expect(expectExit(await box(["start", "again"]), 0).stdout).toBe("again\n");
    expect(expectExit(await box(["ps", "-f", "name=again", "--format", "{{.State}}"]), 0).stdout).toBe(
      "running\n",
    );
    expectExit(await box(["restart", "-t", "0", "again"]), 0);
    expect(expectExit(await box(["exec", "again", "cat", "/runs"]), 0).stdout).toBe("run\nrun\nrun\n");
    expectExit(await box(["rm", "-f", "again"]), 0);
  });

  test("cp both ways (never through the box's symlinks), top, stats, kill -s, wait", async () => {
    const id = expectExit(await box(["run", "-d", "--name", "tools", image, "sleep", "60"]), 0).stdout.trim();
    const host = mkdtempSync(join(tmpdir(), "a3s-cp-"));
    writeFileSync(join(host, "note"), "from host\n");
    expectExit(await box(["cp", join(host, "note"), "tools:/tmp/note"]), 0);
    expect(expectExit(await box(["exec", "tools", "cat", "/tmp/note"]), 0).stdout).toBe("from host\n");
    expectExit(await box(["exec", "tools", "sh", "-c", "mkdir /out && echo made inside > /out/f"]), 0);
    expectExit(await box(["cp", "tools:/out", join(host, "copied")]), 0);
    expect(readFileSync(join(host, "copied", "f"), "utf8")).toBe("made inside\n");
    // A symlink planted in the box pointing at a host path: the copy lands inside the box.
    const outside = mkdtempSync(join(tmpdir(), "a3s-outside-"));
    expectExit(
      await box(["exec", "tools", "sh", "-c", `mkdir -p ${outside} && ln -s ${outside} /escape`]),
      0,
    );
    expectExit(await box(["cp", join(host, "note"), "tools:/escape/pwned"]), 0);
    expect(existsSync(join(outside, "pwned"))).toBe(false);
    expectExit(await box(["exec", "tools", "test", "-f", `${outside}/pwned`]), 0);

    const top = expectExit(await box(["top", "tools"]), 0).stdout.split("\n");
    expect(top[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(top.some((line) => line.endsWith("sleep 60"))).toBe(true);
    const [stats] = expectExit(await box(["stats", "--no-stream", "--json", "tools"]), 0).json<
      Array<{ Name: string; PIDs: string; MemUsage: string }>
    >();
    expect(stats).toMatchObject({ Name: "tools", PIDs: "1" });

    const waited = box(["wait", "tools"]);
    expect(expectExit(await box(["kill", "-s", "SIGKILL", "tools"]), 0).stdout).toBe("tools\n");
    expect(expectExit(await waited, 0).stdout).toBe("137\n");
    expectExit(await box(["rm", id]), 0);
  });

  test("two boxes of one image write to separate upper dirs", async () => {
    const one = expectExit(await box(["run", "-d", image, "sleep", "30"]), 0).stdout.trim();
    const two = expectExit(await box(["run", "-d", image, "sleep", "30"]), 0).stdout.trim();
    expectExit(await box(["exec", one, "sh", "-c", "echo mine > /etc/motd"]), 0);
    expectExit(await box(["exec", two, "test", "!", "-e", "/etc/motd"]), 0);
    expectExit(await box(["rm", "-f", one, two]), 0);
  });

  test("20 boxes started in parallel all run and all appear in ps", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        box(["run", "-d", "--name", `par${i}`, "-l", "batch=par", image, "sleep", "60"]),
      ),
    );
    for (const result of results) expectExit(result, 0);
    const names = expectExit(await box(["ps", "-f", "label=batch=par", "--format", "{{.Names}}"]), 0).stdout;
    expect(names.trim().split("\n").sort()).toEqual(Array.from({ length: 20 }, (_, i) => `par${i}`).sort());
    const ids = expectExit(await box(["ps", "-q", "-f", "label=batch=par"]), 0)
      .stdout.trim()
      .split("\n");
    expectExit(await box(["rm", "-f", ...ids]), 0);
  });

  test("on-failure restarts up to its limit", async () => {
    expectExit(
      await box(["run", "-d", "--name", "flaky", "--restart", "on-failure:2", image, "sh", "-c", "exit 1"]),
      0,
    );
    expect(expectExit(await box(["wait", "flaky"]), 0).stdout).toBe("1\n");
    const [state] = expectExit(await box(["inspect", "flaky"]), 0).json<Array<{ RestartCount: number }>>();
    expect(state?.RestartCount).toBe(2);
    expectExit(await box(["rm", "flaky"]), 0);
  });

  test("a killed supervisor: the box is reported exited with the reason, the store stays intact", async () => {
    expectExit(await box(["run", "-d", "--name", "orphan", image, "sleep", "60"]), 0);
    const [before] = expectExit(await box(["inspect", "orphan"]), 0).json<
      Array<{ A3s: { SupervisorPid: number } }>
    >();
    process.kill(before!.A3s.SupervisorPid, "SIGKILL");
    await Bun.sleep(100);
    expect(expectExit(await box(["ps", "-a", "-f", "name=orphan", "--format", "{{.State}}"]), 0).stdout).toBe(
      "exited\n",
    );
    const [after] = expectExit(await box(["inspect", "orphan"]), 0).json<
      Array<{ State: { Error: string } }>
    >();
    expect(after?.State.Error).toContain("supervisor");
    expectExit(await box(["rm", "orphan"]), 0);
    expectExit(await box(["images", "-q"]), 0);
  });
});

describe("bad input", () => {
  test("each is a clear error with Docker's exit code, and ps stays consistent", async () => {
    const before = expectExit(await box(["ps", "-a", "-q"]), 0).stdout;
    expect(expectExit(await box(["run", "--rm", "--pull", "never", "nosuch:image"]), 125).stderr).toContain(
      "No such image",
    );
    expect(expectExit(await box(["run", "--rm", image, "nosuchcmd"]), 127).stderr).toContain(
      "executable file not found",
    );
    expect(expectExit(await box(["run", "--rm", image, "/etc/passwd"]), 126).stderr).toContain(
      "permission denied",
    );
    expect(expectExit(await box(["run", "--rm", "-v", "relative:/x", image, "true"]), 125).stderr).toContain(
      "relative",
    );
    expectExit(await box(["run", "-d", "--name", "taken", image, "sleep", "30"]), 0);
    expect(expectExit(await box(["run", "--name", "taken", image, "true"]), 125).stderr).toContain(
      "already in use",
    );
    expectExit(await box(["rm", "-f", "taken"]), 0);
    expect(expectExit(await box(["stop", "nosuchbox"]), 3).stderr).toContain("No such box");
    expect(expectExit(await box(["ps", "-a", "-q"]), 0).stdout).toBe(before);
  });
});

describe("runtimes", () => {
  test("runc and gVisor's runsc run the same box", async () => {
    expect(expectExit(await box(["run", "--rm", "--runtime", "runc", image, "echo", "runc"]), 0).stdout).toBe(
      "runc\n",
    );
    expect(
      expectExit(await box(["run", "--rm", "--runtime", "runsc", image, "echo", "gvisor"]), 0).stdout,
    ).toBe("gvisor\n");
  });
});
