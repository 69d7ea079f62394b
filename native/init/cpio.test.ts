import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newcArchive, S_IFDIR, S_IFLNK } from "./cpio.ts";
import { initramfs } from "./initramfs.ts";

const cpio = Bun.which("cpio");
if (!cpio) console.log("skipping the cpio extraction tests: cpio is not installed (apt-get install cpio)");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "a3s-cpio-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs cpio in `cwd` with the archive on its stdin. */
function runCpio(args: string[], archive: Uint8Array, cwd = dir): string {
  const file = join(dir, "archive.cpio");
  writeFileSync(file, archive);
  const result = Bun.spawnSync(["sh", "-c", `cpio ${args.join(" ")} < "$0"`, file], { cwd });
  if (result.exitCode !== 0) throw new Error(`cpio failed: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

describe("newcArchive", () => {
  test.skipIf(!cpio)("cpio -idmv extracts directories, files, modes and symbolic links", () => {
    const archive = newcArchive([
      { path: "/bin", mode: S_IFDIR | 0o755 },
      { path: "/bin/tool", mode: 0o755, data: "#!/bin/sh\necho hi\n" },
      { path: "bin/link", mode: S_IFLNK | 0o777, data: "tool" },
      { path: "etc", mode: S_IFDIR | 0o700 },
      { path: "etc/odd", mode: 0o600, data: new Uint8Array([0, 1, 2, 255, 3]) },
    ]);
    const out = join(dir, "out");
    mkdirSync(out);
    runCpio(["-idmv"], archive, out);
    expect(readFileSync(join(out, "bin/tool"), "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect(lstatSync(join(out, "bin/tool")).mode & 0o7777).toBe(0o755);
    expect(readlinkSync(join(out, "bin/link"))).toBe("tool");
    expect(lstatSync(join(out, "etc")).mode & 0o7777).toBe(0o700);
    expect([...readFileSync(join(out, "etc/odd"))]).toEqual([0, 1, 2, 255, 3]);
  });

  test("every field is padded to 4 bytes and the archive ends with the trailer", () => {
    const archive = newcArchive([{ path: "a", mode: 0o644, data: "xyz" }]);
    const text = new TextDecoder().decode(archive);
    expect(text.startsWith("070701")).toBe(true);
    // 110-byte header + "a\0" padded to 112, then "xyz" padded to 4.
    expect(text.slice(112, 116)).toBe("xyz\0");
    expect(text.indexOf("TRAILER!!!")).toBeGreaterThan(0);
    expect(archive.length % 4).toBe(0);
  });

  test("refuses an entry that comes before its directory, and paths that climb", () => {
    expect(() => newcArchive([{ path: "dir/file", mode: 0o644, data: "" }])).toThrow(/before its directory/);
    expect(() => newcArchive([{ path: "../x", mode: 0o644 }])).toThrow(/bad path/);
  });
});

describe("initramfs", () => {
  test.skipIf(!cpio)("holds /dev/console and an executable /init", () => {
    const stdout = runCpio(["-itv"], initramfs(new TextEncoder().encode("\x7fELF")));
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^drwxr-xr-x .* dev$/);
    expect(lines[1]).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/);
    expect(lines[2]).toMatch(/^-rwxr-xr-x .* 4 .* init$/);
  });
});
