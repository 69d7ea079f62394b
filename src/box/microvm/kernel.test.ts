import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { pathsFor } from "../../core/paths.ts";
import {
  buildKernel,
  findKernel,
  fragmentSettings,
  KERNEL_BUILD_SCRIPT,
  KERNEL_FRAGMENT,
  kernelCacheKey,
  kernelCandidates,
  kernelKeyFor,
  kernelSourceIdentity,
  type ScriptRunner,
} from "./kernel.ts";

const scratchDirs: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "a3s-kernel-test-"));
  scratchDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fake source tarball with a fixed size and mtime. */
function fakeTarball(dir: string, bytes = "linux"): string {
  const path = join(dir, "linux-source-6.1.tar.xz");
  writeFileSync(path, bytes);
  utimesSync(path, 1_700_000_000, 1_700_000_000);
  return path;
}

function put(path: string, text = "x"): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A build.sh stand-in: writes vmlinux and config into the output directory after `delayMs`. */
function fakeBuild(options: { delayMs?: number; status?: number } = {}) {
  const calls: (readonly string[])[] = [];
  const run: ScriptRunner = async (script, args, { onLine }) => {
    calls.push(args);
    expect(readFileSync(script, "utf8")).toBe(KERNEL_BUILD_SCRIPT);
    onLine("==> building vmlinux with 2 jobs");
    await Bun.sleep(options.delayMs ?? 0);
    if (options.status !== undefined && options.status !== 0) {
      onLine("make: *** [Makefile:1234: vmlinux] Error 2");
      return options.status;
    }
    const [, output] = args;
    writeFileSync(join(output!, "vmlinux"), "ELF");
    writeFileSync(join(output!, "config"), "CONFIG_64BIT=y\n");
    return 0;
  };
  return { run, calls };
}

describe("the fragment", () => {
  test("holds only =y, =n and 'is not set' settings, comments and blank lines", () => {
    const bad = KERNEL_FRAGMENT.split("\n").filter(
      (line) =>
        !(
          line === "" ||
          /^CONFIG_[A-Z0-9_]+=[yn]$/.test(line) ||
          /^# CONFIG_[A-Z0-9_]+ is not set$/.test(line) ||
          (line.startsWith("#") && !/^#\s*CONFIG_/.test(line))
        ),
    );
    expect(bad).toEqual([]);
  });

  test("names each option once and keeps modules off", () => {
    const names = fragmentSettings(KERNEL_FRAGMENT).map((line) => /CONFIG_\w+/.exec(line)![0]);
    expect(names.length).toBeGreaterThan(50);
    expect(new Set(names).size).toBe(names.length);
    expect(fragmentSettings(KERNEL_FRAGMENT)).toContain("# CONFIG_MODULES is not set");
    for (const needed of ["PVH", "VIRTIO_MMIO_CMDLINE_DEVICES", "EROFS_FS", "OVERLAY_FS", "9P_FS"]) {
      expect(fragmentSettings(KERNEL_FRAGMENT)).toContain(`CONFIG_${needed}=y`);
    }
  });

  test("build.sh is embedded and strict", () => {
    expect(KERNEL_BUILD_SCRIPT.startsWith("#!/usr/bin/env bash\n")).toBe(true);
    expect(KERNEL_BUILD_SCRIPT).toContain("set -euo pipefail");
  });
});

describe("kernelCacheKey", () => {
  const identity = "tarball:138762344:1700000000";

  test("is stable: 16 hex digits, the same for the same input", () => {
    const key = kernelCacheKey(KERNEL_FRAGMENT, identity);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(kernelCacheKey(KERNEL_FRAGMENT, identity)).toBe(key);
    expect(kernelCacheKey("CONFIG_A=y\n", "tarball:1:2")).toBe("316115775f0bafa6");
  });

  test("changes with any setting and with the source", () => {
    const key = kernelCacheKey(KERNEL_FRAGMENT, identity);
    expect(kernelCacheKey(`${KERNEL_FRAGMENT}CONFIG_IPV6=y\n`, identity)).not.toBe(key);
    expect(
      kernelCacheKey(KERNEL_FRAGMENT.replace("CONFIG_SMP=y", "# CONFIG_SMP is not set"), identity),
    ).not.toBe(key);
    expect(kernelCacheKey(KERNEL_FRAGMENT, "tarball:138762344:1700000001")).not.toBe(key);
  });

  test("ignores comments, blank lines and indentation", () => {
    const reworded = `# a new comment\n\n${KERNEL_FRAGMENT.replaceAll("# ---", "#")}\n\n`;
    expect(kernelCacheKey(reworded, identity)).toBe(kernelCacheKey(KERNEL_FRAGMENT, identity));
  });

  test("a tarball is identified by size and mtime, not by name", () => {
    const a = fakeTarball(scratch(), "12345");
    const b = fakeTarball(scratch(), "12345");
    expect(kernelSourceIdentity(a)).toBe("tarball:5:1700000000");
    expect(kernelSourceIdentity(b)).toBe(kernelSourceIdentity(a));
    expect(kernelSourceIdentity(join(scratch(), "missing.tar.xz"))).toBeUndefined();
    expect(kernelKeyFor(join(scratch(), "missing.tar.xz"))).toBeUndefined();
  });

  test("a source tree is identified by its version and path", () => {
    const tree = scratch();
    put(join(tree, "Makefile"), "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 158\nEXTRAVERSION =\nNAME = x\n");
    expect(kernelSourceIdentity(tree)).toBe(`tree:6.1.158:${tree}`);
  });
});

describe("findKernel", () => {
  function layout() {
    const root = scratch();
    const paths = pathsFor(join(root, "home"));
    const execDir = join(root, "prefix", "bin");
    mkdirSync(execDir, { recursive: true });
    const source = fakeTarball(root);
    const key = kernelKeyFor(source)!;
    return { root, paths, execDir, source, key };
  }

  test("nothing anywhere: undefined", () => {
    const { paths, execDir, source } = layout();
    expect(findKernel(paths, execDir, { source })).toBeUndefined();
  });

  test("order: next to the binary, <dir>/share/a3s, <dir>/../share/a3s, then the cache", () => {
    const { root, paths, execDir, source, key } = layout();
    const expected = [
      join(execDir, "vmlinux"),
      join(execDir, "share", "a3s", "vmlinux"),
      join(root, "prefix", "share", "a3s", "vmlinux"),
      join(paths.kernel, key, "vmlinux"),
    ];
    expect(kernelCandidates(paths, execDir, { source })).toEqual(expected);
    // Create them from the last to the first: each new one must win.
    for (const path of [...expected].reverse()) {
      put(path);
      expect(findKernel(paths, execDir, { source })).toBe(path);
    }
  });

  test("the cache only counts under the current key", () => {
    const { paths, execDir, source } = layout();
    put(join(paths.kernel, "0123456789abcdef", "vmlinux"));
    put(join(paths.kernel, "0123456789abcdef", "a3s.config"), "CONFIG_SOMETHING_ELSE=y\n");
    expect(findKernel(paths, execDir, { source })).toBeUndefined();
  });

  test("without the source, the newest build of the same fragment is used", () => {
    const { root, paths, execDir } = layout();
    const source = join(root, "removed.tar.xz");
    const older = put(join(paths.kernel, "1111111111111111", "vmlinux"));
    put(join(paths.kernel, "1111111111111111", "a3s.config"), KERNEL_FRAGMENT);
    utimesSync(older, 1_600_000_000, 1_600_000_000);
    const newer = put(join(paths.kernel, "2222222222222222", "vmlinux"));
    put(join(paths.kernel, "2222222222222222", "a3s.config"), `# reworded\n${KERNEL_FRAGMENT}`);
    put(join(paths.kernel, ".build-3333333333333333-abc", "vmlinux"));
    expect(findKernel(paths, execDir, { source })).toBe(newer);
  });
});

describe("buildKernel", () => {
  function setup() {
    const root = scratch();
    return { paths: pathsFor(join(root, "home")), source: fakeTarball(root) };
  }

  test("builds into kernel/<key>/ with a record of how, then returns at once", async () => {
    const { paths, source } = setup();
    const fake = fakeBuild();
    const lines: string[] = [];
    const kernel = await buildKernel(paths, {
      source,
      runScript: fake.run,
      onLine: (line) => lines.push(line),
    });

    const dir = join(paths.kernel, kernelKeyFor(source)!);
    expect(kernel).toBe(join(dir, "vmlinux"));
    expect(readdirSync(dir).sort()).toEqual(["a3s.config", "build.sh", "config", "source.json", "vmlinux"]);
    expect(readFileSync(join(dir, "a3s.config"), "utf8")).toBe(KERNEL_FRAGMENT);
    expect(JSON.parse(readFileSync(join(dir, "source.json"), "utf8"))).toMatchObject({
      source,
      identity: "tarball:5:1700000000",
    });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]![0]).toBe(source);
    expect(lines).toEqual(["==> building vmlinux with 2 jobs"]);
    // Nothing left behind: no lock, no staging directory.
    expect(readdirSync(paths.kernel)).toEqual([kernelKeyFor(source)!]);

    expect(await buildKernel(paths, { source, runScript: fake.run })).toBe(kernel);
    expect(fake.calls).toHaveLength(1);
    expect(findKernel(paths, scratch(), { source })).toBe(kernel);
  });

  test("two builds at once: one runs the script, the other waits for it", async () => {
    const { paths, source } = setup();
    const fake = fakeBuild({ delayMs: 150 });
    const waiting: string[] = [];
    const [a, b] = await Promise.all([
      buildKernel(paths, { source, runScript: fake.run, pollMs: 10 }),
      buildKernel(paths, { source, runScript: fake.run, pollMs: 10, onLine: (line) => waiting.push(line) }),
    ]);
    expect(a).toBe(b);
    expect(fake.calls).toHaveLength(1);
    expect(waiting).toEqual([`another a3s process (${process.pid}) is building the kernel; waiting`]);
  });

  test("a lock left by a dead process is taken over", async () => {
    const { paths, source } = setup();
    const key = kernelKeyFor(source)!;
    put(join(paths.kernel, `.${key}.lock`), "2147483646\n");
    put(join(paths.kernel, `.build-${key}-stale`, "vmlinux"), "half");
    const fake = fakeBuild();
    expect(await buildKernel(paths, { source, runScript: fake.run, pollMs: 10 })).toBe(
      join(paths.kernel, key, "vmlinux"),
    );
    expect(fake.calls).toHaveLength(1);
    expect(readdirSync(paths.kernel)).toEqual([key]);
  });

  test("a failed build leaves nothing behind and says why", async () => {
    const { paths, source } = setup();
    const fake = fakeBuild({ status: 2 });
    const error = await buildKernel(paths, { source, runScript: fake.run }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(A3sError);
    expect((error as A3sError).code).toBe("runtime");
    expect((error as A3sError).message).toContain("exited with 2");
    expect((error as A3sError).hint).toContain("Error 2");
    expect(readdirSync(paths.kernel)).toEqual([]);
    // The next attempt builds again.
    expect(existsSync(await buildKernel(paths, { source, runScript: fakeBuild().run }))).toBe(true);
  });

  test("a missing source is not_found, before anything is created", async () => {
    const { paths } = setup();
    const error = await buildKernel(paths, { source: join(scratch(), "nope.tar.xz") }).catch(
      (err: unknown) => err,
    );
    expect((error as A3sError).code).toBe("not_found");
    expect(existsSync(paths.kernel)).toBe(false);
  });
});
