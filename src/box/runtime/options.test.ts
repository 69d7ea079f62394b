import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectUsage } from "../../../tests/expect-error.ts";
import {
  DEFAULT_PATH,
  mergeEnv,
  parseCpus,
  parseEnvFile,
  parseEnvList,
  parseLabels,
  parseMemory,
  parsePidsLimit,
  parsePublish,
  parseRestart,
  parseSignal,
  parseUser,
  parseVolume,
} from "./options.ts";
import { resolveInRoot } from "./users.ts";

const tmp = (prefix: string) => realpathSync(mkdtempSync(join(tmpdir(), prefix)));

describe("environment", () => {
  const host = { FROM_HOST: "host value", EMPTY: "" };

  test("-e KEY=VAL is verbatim; -e KEY takes the host's value or is dropped", () => {
    expect(parseEnvList(["A=1", "B=", "C=x=y", "FROM_HOST", "EMPTY", "UNSET"], host)).toEqual([
      "A=1",
      "B=",
      "C=x=y",
      "FROM_HOST=host value",
      "EMPTY=",
    ]);
  });

  test("-e without a name, or with whitespace in it, is refused", () => {
    expectUsage(() => parseEnvList(["=value"], host), "'=value'");
    expectUsage(() => parseEnvList(["MY VAR=1"], host), "'MY VAR'");
  });

  test("env files: comments, blank lines, no quote processing, host lookups", () => {
    const text =
      '\uFEFF# comment\n\n  A=1\nB="quoted"\nC=trailing  \r\n   # indented comment\nFROM_HOST\nUNSET\nD=a#b\n';
    expect(parseEnvFile(text, host)).toEqual([
      "A=1",
      'B="quoted"',
      "C=trailing  ",
      "FROM_HOST=host value",
      "D=a#b",
    ]);
  });

  test("env files name the bad line", () => {
    expectUsage(() => parseEnvFile("A=1\nBAD KEY=2\n", host), /line 2/);
    expectUsage(() => parseEnvFile("=nothing\n", host), /line 1/);
  });

  test("merge: default PATH, HOSTNAME, image then user per key, HOME last", () => {
    expect(mergeEnv([], [], { hostname: "abc", home: "/root" })).toEqual([
      `PATH=${DEFAULT_PATH}`,
      "HOSTNAME=abc",
      "HOME=/root",
    ]);
    const image = ["PATH=/opt/bin:/bin", "LANG=C.UTF-8", "MODE=image"];
    const user = ["MODE=user", "EXTRA=1", "HOSTNAME=custom"];
    expect(mergeEnv(image, user, { hostname: "abc", home: "/home/app", terminal: true })).toEqual([
      "PATH=/opt/bin:/bin",
      "HOSTNAME=custom",
      "TERM=xterm",
      "LANG=C.UTF-8",
      "MODE=user",
      "EXTRA=1",
      "HOME=/home/app",
    ]);
  });

  test("merge: a HOME from the image or the user is kept", () => {
    expect(mergeEnv(["HOME=/image"], [], { hostname: "h", home: "/root" })).toContain("HOME=/image");
    const env = mergeEnv(["HOME=/image"], ["HOME=/user"], { hostname: "h", home: "/root" });
    expect(env.filter((entry) => entry.startsWith("HOME="))).toEqual(["HOME=/user"]);
  });
});

describe("volumes", () => {
  test("host:guest, with ro/rw, z and propagation options", () => {
    const host = tmp("a3s-vol-");
    expect(parseVolume(`${host}:/data`)).toEqual({
      source: host,
      destination: "/data",
      readOnly: false,
      propagation: "rprivate",
    });
    expect(parseVolume(`${host}:/data/:ro`)).toMatchObject({ destination: "/data", readOnly: true });
    expect(parseVolume(`${host}:/data:rw,Z`)).toMatchObject({ readOnly: false });
    expect(parseVolume(`${host}:/data:z,ro,rslave`)).toMatchObject({ readOnly: true, propagation: "rslave" });
  });

  test("a missing host directory is created; symlinks are resolved", () => {
    const base = tmp("a3s-vol-");
    const missing = join(base, "a/b/c");
    expect(parseVolume(`${missing}:/x`).source).toBe(missing);
    expect(statSync(missing).isDirectory()).toBe(true);
    symlinkSync(join(base, "a"), join(base, "link"));
    expect(parseVolume(`${base}/link/b:/x`).source).toBe(join(base, "a/b"));
  });

  test("bad volumes name the value", () => {
    const host = tmp("a3s-vol-");
    expectUsage(() => parseVolume("data:/data"), /named volumes are not supported yet/);
    expectUsage(() => parseVolume("./data:/data"), /'\.\/data' must be absolute/);
    expectUsage(() => parseVolume(`${host}:data`), /box path 'data' must be absolute/);
    expectUsage(() => parseVolume("/data"), /anonymous volumes are not supported yet/);
    expectUsage(() => parseVolume(`${host}:/data:bogus`), /unknown option 'bogus'/);
    expectUsage(() => parseVolume(`${host}:/data:ro,rw`), /more than one of ro and rw/);
    expectUsage(() => parseVolume(`${host}:/`), /cannot be '\/'/);
    expectUsage(() => parseVolume(`${host}:/a:ro:x`), /expected host-path:box-path/);
    expectUsage(() => parseVolume(`:/a`), /expected host-path:box-path/);
  });
});

describe("ports", () => {
  test.each([
    ["8080:80", { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80 }],
    ["80", { hostIp: "127.0.0.1", hostPort: 0, containerPort: 80 }],
    ["0:80", { hostIp: "127.0.0.1", hostPort: 0, containerPort: 80 }],
    ["0.0.0.0:8080:80", { hostIp: "0.0.0.0", hostPort: 8080, containerPort: 80 }],
    ["10.0.0.1::80/tcp", { hostIp: "10.0.0.1", hostPort: 0, containerPort: 80 }],
    ["[::1]:8080:80", { hostIp: "::1", hostPort: 8080, containerPort: 80 }],
    ["8080:80/TCP", { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80 }],
  ])("%s", (spec, expected) => {
    expect(parsePublish(spec)).toEqual({ ...expected, protocol: "tcp" });
  });

  test.each([
    ["53:53/udp", /udp ports are not supported/],
    ["8080:80/http", /unknown protocol 'http'/],
    ["8000-8010:80", /port ranges are not supported yet/],
    ["70000:80", /'70000' is not a valid port/],
    ["8080:0", /'0' is not a valid port/],
    ["localhost:8080:80", /'localhost' is not an IP address/],
    ["1.2.3.999:8080:80", /'1.2.3.999' is not an IP address/],
    ["a:b:c:d", /expected \[ip:\]host-port:box-port/],
    ["", /'' is not a valid port/],
  ])("%s is refused", (spec, message) => {
    expectUsage(() => parsePublish(spec), message);
  });
});

describe("limits", () => {
  test.each([
    ["512m", 512 * 1024 ** 2],
    ["512M", 512 * 1024 ** 2],
    ["512mb", 512 * 1024 ** 2],
    ["512MiB", 512 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["1.5g", 1.5 * 1024 ** 3],
    ["6m", 6 * 1024 ** 2],
    ["67108864", 64 * 1024 ** 2],
    ["65536k", 64 * 1024 ** 2],
    ["0", 0],
  ])("memory %s", (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  test.each([
    ["1048576", /too small: the minimum is 6MB/],
    ["64k", /too small/],
    ["5m", /too small/],
    ["abc", /invalid memory size 'abc'/],
    ["-1g", /invalid memory size '-1g'/],
    ["1x", /invalid memory size '1x'/],
  ])("memory %s is refused", (text, message) => {
    expectUsage(() => parseMemory(text), message);
  });

  test("cpus become a quota per 100 ms", () => {
    expect(parseCpus("1.5", 2)).toEqual({ quota: 150_000, period: 100_000 });
    expect(parseCpus("0.25", 2)).toEqual({ quota: 25_000, period: 100_000 });
    expect(parseCpus(".5", 2)).toEqual({ quota: 50_000, period: 100_000 });
    expect(parseCpus("0", 2)).toBeUndefined();
    expectUsage(() => parseCpus("3", 2), /'3': the range is 0.01 to 2.00/);
    expectUsage(() => parseCpus("0.001", 2), /'0.001'/);
    expectUsage(() => parseCpus("two", 2), /'two'/);
    expectUsage(() => parseCpus("-1", 2), /'-1'/);
  });

  test("pids limit", () => {
    expect(parsePidsLimit("100")).toBe(100);
    expect(parsePidsLimit("0")).toBeUndefined();
    expect(parsePidsLimit("-1")).toBeUndefined();
    expectUsage(() => parsePidsLimit("-2"), /'-2'/);
    expectUsage(() => parsePidsLimit("ten"), /'ten'/);
  });
});

describe("users", () => {
  function rootfs(): string {
    const root = tmp("a3s-rootfs-");
    mkdirSync(join(root, "etc"));
    writeFileSync(
      join(root, "etc/passwd"),
      "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nbroken line\n",
    );
    writeFileSync(
      join(root, "etc/group"),
      "root:x:0:\napp:x:1000:\ndocker:x:999:app,other\nwheel:x:10:app\nnogroup:x:65534:\n",
    );
    return root;
  }

  test.each([
    ["", { uid: 0, gid: 0, additionalGids: [], home: "/root" }],
    ["0", { uid: 0, gid: 0, additionalGids: [], home: "/root" }],
    ["65534:65534", { uid: 65534, gid: 65534, additionalGids: [], home: "/nonexistent" }],
    ["app", { uid: 1000, gid: 1000, additionalGids: [999, 10], home: "/home/app" }],
    ["1000", { uid: 1000, gid: 1000, additionalGids: [999, 10], home: "/home/app" }],
    ["app:docker", { uid: 1000, gid: 999, additionalGids: [], home: "/home/app" }],
    ["app:42", { uid: 1000, gid: 42, additionalGids: [], home: "/home/app" }],
    ["4242", { uid: 4242, gid: 0, additionalGids: [], home: "/" }],
    ["4242:4242", { uid: 4242, gid: 4242, additionalGids: [], home: "/" }],
  ])("-u %p", (spec, expected) => {
    expect(parseUser(spec, rootfs())).toEqual(expected);
  });

  test.each([
    ["alice", /unable to find user alice/],
    ["app:staff", /unable to find group staff/],
    ["app:", /invalid user 'app:'/],
    ["a:b:c", /invalid user 'a:b:c'/],
  ])("-u %p is refused", (spec, message) => {
    expectUsage(() => parseUser(spec, rootfs()), message);
  });

  test("an image without /etc/passwd still runs numeric users", () => {
    const root = tmp("a3s-rootfs-");
    expect(parseUser("1:2", root)).toEqual({ uid: 1, gid: 2, additionalGids: [], home: "/" });
    expectUsage(() => parseUser("app", root), /unable to find user app/);
  });

  test("a symlinked /etc/passwd is resolved inside the rootfs, never on the host", () => {
    const host = tmp("a3s-host-");
    writeFileSync(join(host, "passwd"), "evil:x:0:0::/evil:/bin/sh\n");
    for (const target of [join(host, "passwd"), `../../../../../../..${host}/passwd`]) {
      const root = tmp("a3s-rootfs-");
      mkdirSync(join(root, "etc"));
      symlinkSync(target, join(root, "etc/passwd"));
      expectUsage(() => parseUser("evil", root), /unable to find user evil/);
      // The same path inside the rootfs is what counts.
      mkdirSync(join(root, host), { recursive: true });
      writeFileSync(join(root, host, "passwd"), "inside:x:7:7::/in:/bin/sh\n");
      expect(parseUser("inside", root)).toMatchObject({ uid: 7, gid: 7, home: "/in" });
    }
  });

  test("resolveInRoot clamps .. and absolute links at the root", () => {
    const root = tmp("a3s-rootfs-");
    mkdirSync(join(root, "a/b"), { recursive: true });
    symlinkSync("/a", join(root, "a/b/up"));
    symlinkSync("../../../..", join(root, "a/b/dots"));
    symlinkSync("loop", join(root, "loop"));
    expect(resolveInRoot(root, "/a/b/up/b")).toBe(join(root, "a/b"));
    expect(resolveInRoot(root, "/a/b/dots/a")).toBe(join(root, "a"));
    expect(resolveInRoot(root, "/../../a")).toBe(join(root, "a"));
    expect(resolveInRoot(root, "/loop")).toBeUndefined();
    expect(resolveInRoot(root, "/missing/x")).toBeUndefined();
  });
});

describe("labels, restart policies, signals", () => {
  test("labels", () => {
    expect(parseLabels(["a=b", "c", "d=e=f", "a=again"])).toEqual({ a: "again", c: "", d: "e=f" });
    expectUsage(() => parseLabels(["=x"]), /'=x'/);
  });

  test.each([
    ["no", { name: "no" }],
    ["", { name: "no" }],
    ["always", { name: "always" }],
    ["unless-stopped", { name: "unless-stopped" }],
    ["on-failure", { name: "on-failure", maximumRetryCount: 0 }],
    ["on-failure:5", { name: "on-failure", maximumRetryCount: 5 }],
  ])("restart %p", (text, policy) => {
    expect(parseRestart(text)).toEqual(policy as ReturnType<typeof parseRestart>);
  });

  test.each([
    ["always:3", /only allowed with on-failure/],
    ["on-failure:-1", /'on-failure:-1'/],
    ["on-failure:x", /'on-failure:x'/],
    ["sometimes", /'sometimes'/],
    ["on-failure:1:2", /'on-failure:1:2'/],
  ])("restart %p is refused", (text, message) => {
    expectUsage(() => parseRestart(text), message);
  });

  test.each([
    ["SIGTERM", 15],
    ["TERM", 15],
    ["term", 15],
    ["sigkill", 9],
    ["9", 9],
    ["SIGUSR1", 10],
    ["HUP", 1],
    ["RTMIN", 34],
    ["SIGRTMIN+3", 37],
    ["RTMAX-1", 63],
  ])("signal %p", (text, number) => {
    expect(parseSignal(text)).toBe(number);
  });

  test.each(["SIGBOGUS", "0", "65", "RTMIN-1", "RTMAX+1", ""])("signal %p is refused", (text) => {
    expectUsage(() => parseSignal(text), `'${text}'`);
  });
});
