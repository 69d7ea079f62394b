import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  compress,
  concat,
  dir,
  file,
  hardlink,
  opaque,
  symlink,
  type TarEntry,
  tarArchive,
  whiteout,
  writeLayer,
} from "../../../tests/fixtures/tar-builder.ts";
import { A3sError } from "../../core/errors.ts";
import { detectCompression, type LayerCompression, unpackLayer } from "./unpack.ts";

/** Ownership, device nodes and trusted.* xattrs are only checked as root; the rest runs as anyone. */
const asRoot = process.getuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), "a3s-unpack-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/**
 * A fresh case: the target sits three levels down so that "../../escape" has somewhere to land, and a
 * sentinel directory next to it holds a file, a subdirectory and a mode that hostile layers aim at.
 */
function sandbox() {
  const base = join(scratch, `case-${++counter}`);
  const target = join(base, "deep", "er", "root");
  const outside = join(base, "outside");
  const blobs = `${base}-blobs`;
  mkdirSync(target, { recursive: true });
  mkdirSync(blobs);
  mkdirSync(join(outside, "sub"), { recursive: true });
  writeFileSync(join(outside, "secret"), "original\n");
  chmodSync(join(outside, "secret"), 0o640);
  writeFileSync(join(outside, "sub", "inner"), "inner\n");
  chmodSync(outside, 0o750);
  let layers = 0;
  return {
    base,
    target,
    outside,
    layer(entries: TarEntry[], compression: LayerCompression = "none"): string {
      return writeLayer(join(blobs, `layer-${++layers}.tar`), entries, compression);
    },
    blob(data: Uint8Array): string {
      const path = join(blobs, `layer-${++layers}.bin`);
      writeFileSync(path, data);
      return path;
    },
    /** Everything under base except the target: type, mode, owner, mtime, content. */
    snapshot(): string[] {
      const lines: string[] = [];
      const walk = (path: string) => {
        if (path === target) return;
        const stat = lstatSync(path);
        const what = stat.isSymbolicLink()
          ? `-> ${readlinkSync(path)}`
          : stat.isFile()
            ? readFileSync(path, "utf8")
            : "";
        lines.push(`${path} ${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${stat.mtimeMs} ${what}`);
        if (stat.isDirectory()) for (const child of readdirSync(path).sort()) walk(join(path, child));
      };
      walk(base);
      return lines;
    },
  };
}

type Sandbox = ReturnType<typeof sandbox>;

/** Runs a hostile case and checks that nothing outside the target changed, whatever the outcome. */
async function outsideUnchanged<T>(box: Sandbox, run: () => Promise<T>): Promise<T> {
  const before = box.snapshot();
  try {
    return await run();
  } finally {
    expect(box.snapshot()).toEqual(before);
  }
}

async function rejection(promise: Promise<unknown>): Promise<A3sError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(A3sError);
    return err as A3sError;
  }
  throw new Error("expected the layer to be rejected");
}

describe("detectCompression", () => {
  test("knows gzip and zstd by their magic bytes", () => {
    expect(detectCompression(new Uint8Array([0x1f, 0x8b, 8, 0]))).toBe("gzip");
    expect(detectCompression(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]))).toBe("zstd");
    expect(detectCompression(new TextEncoder().encode("etc/passwd"))).toBe("none");
    expect(detectCompression(new Uint8Array([0x28, 0xb5]))).toBe("none");
    expect(detectCompression(new Uint8Array())).toBe("none");
  });
});

describe("unpackLayer", () => {
  test("writes files, directories, symlinks and hard links with modes, times and owners", async () => {
    const box = sandbox();
    const layer = box.layer([
      dir("usr/", { mode: 0o755, mtime: 1_600_000_000 }),
      dir("usr/bin/", { mode: 0o750, uid: 7, gid: 8, mtime: 1_600_000_001 }),
      file("usr/bin/su", "#!/bin/true\n", { mode: 0o4755, uid: 1000, gid: 1001, mtime: 1_600_000_002 }),
      file("usr/bin/empty", "", { mode: 0o600 }),
      hardlink("usr/bin/su2", "usr/bin/su"),
      symlink("bin", "usr/bin", { uid: 5, gid: 6, mtime: 1_600_000_003 }),
      symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
      file(`deep/${"long-name-".repeat(20)}`, "long"),
    ]);
    const result = await unpackLayer(layer, box.target);
    expect(result).toEqual({
      entries: 8,
      bytes: 16,
      whiteouts: 0,
      whiteoutPaths: [],
      skipped: [],
      diffId: `sha256:${createHash("sha256").update(readFileSync(layer)).digest("hex")}`,
    });

    const su = lstatSync(join(box.target, "usr/bin/su"));
    expect(su.mode & 0o7777).toBe(0o4755);
    if (asRoot) expect([su.uid, su.gid]).toEqual([1000, 1001]);
    expect(su.mtimeMs).toBe(1_600_000_002_000);
    expect(readFileSync(join(box.target, "usr/bin/su"), "utf8")).toBe("#!/bin/true\n");
    expect(lstatSync(join(box.target, "usr/bin/empty")).mode & 0o7777).toBe(0o600);
    expect(lstatSync(join(box.target, "usr/bin/su2")).ino).toBe(su.ino);

    const bin = lstatSync(join(box.target, "usr/bin"));
    expect(bin.mode & 0o7777).toBe(0o750);
    if (asRoot) expect([bin.uid, bin.gid]).toEqual([7, 8]);
    expect(bin.mtimeMs).toBe(1_600_000_001_000);
    expect(lstatSync(join(box.target, "usr")).mtimeMs).toBe(1_600_000_000_000);

    const link = lstatSync(join(box.target, "bin"));
    expect(link.isSymbolicLink()).toBe(true);
    if (asRoot) expect([link.uid, link.gid]).toEqual([5, 6]);
    expect(link.mtimeMs).toBe(1_600_000_003_000);
    expect(readlinkSync(join(box.target, "bin"))).toBe("usr/bin");
    expect(readlinkSync(join(box.target, "etc/localtime"))).toBe("/usr/share/zoneinfo/UTC");
    expect(readFileSync(join(box.target, "deep", "long-name-".repeat(20)), "utf8")).toBe("long");
  });

  test("leaves ownership alone and skips device nodes when told to, as an unprivileged user would", async () => {
    const box = sandbox();
    const layer = box.layer([
      file("owned", "x", { uid: 1234, gid: 4321 }),
      { name: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 },
      { name: "dev/loop0", type: "block", mode: 0o660, devmajor: 7, devminor: 0 },
      { name: "run/fifo", type: "fifo", mode: 0o600 },
    ]);
    const result = await unpackLayer(layer, box.target, { preserveOwnership: false, allowDevices: false });
    expect(lstatSync(join(box.target, "owned")).uid).toBe(process.getuid!());
    expect(result.skipped).toEqual([
      { path: "dev/null", reason: "device nodes need root" },
      { path: "dev/loop0", reason: "device nodes need root" },
    ]);
    expect(existsSync(join(box.target, "dev/null"))).toBe(false);
    expect(lstatSync(join(box.target, "run/fifo")).isFIFO()).toBe(true);
  });

  test("creates device nodes as root", async () => {
    if (!asRoot) return;
    const box = sandbox();
    const layer = box.layer([
      { name: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3, gid: 5 },
      { name: "dev/loop0", type: "block", mode: 0o660, devmajor: 7, devminor: 0 },
    ]);
    const result = await unpackLayer(layer, box.target);
    if (result.skipped.length > 0) {
      // A container without CAP_MKNOD: the reason says so instead of failing the layer.
      expect(result.skipped[0]!.reason).toStartWith("mknod failed");
      return;
    }
    const node = lstatSync(join(box.target, "dev/null"));
    expect(node.isCharacterDevice()).toBe(true);
    expect(node.mode & 0o7777).toBe(0o666);
    expect(node.rdev).toBe(statSync("/dev/null").rdev);
    expect([node.uid, node.gid]).toEqual([0, 5]);
    const loop = lstatSync(join(box.target, "dev/loop0"));
    expect(loop.isBlockDevice()).toBe(true);
    expect(loop.rdev).toBe((7 << 8) | 0);
  });

  for (const compression of ["gzip", "zstd"] as const) {
    test(`reads ${compression} layers, sniffed or named`, async () => {
      const box = sandbox();
      // Incompressible, so the blob spans several reads and both read buffers are reused.
      const big = new Uint8Array(randomBytes(5 << 20));
      const layer = box.layer([file("a/big", big), file("a/small", "small")], compression);
      const result = await unpackLayer(layer, box.target);
      expect(result.bytes).toBe(big.length + 5);
      expect(readFileSync(join(box.target, "a/big")).equals(big)).toBe(true);
      const tar = tarArchive([file("a/big", big), file("a/small", "small")]);
      expect(result.diffId).toBe(`sha256:${createHash("sha256").update(tar).digest("hex")}`);
      const again = await unpackLayer(layer, join(box.target, "a"), { compression });
      expect(again.entries).toBe(2);
    });
  }

  test("reads zstd layers made by the zstd tool, with checksums and several frames", async () => {
    const box = sandbox();
    const raw = join(`${box.base}-blobs`, "raw.tar");
    writeFileSync(raw, tarArchive([file("one", "1".repeat(200_000)), file("two", "2")]));
    const made = spawnSync("zstd", ["-q", "-f", "--check", "-B65536", "-T2", raw, "-o", `${raw}.zst`]);
    if (made.status !== 0) return; // no zstd tool here
    const twoFrames = concat([readFileSync(`${raw}.zst`), compress(tarArchive([]), "zstd")]);
    await unpackLayer(box.blob(twoFrames), box.target);
    expect(readFileSync(join(box.target, "one"), "utf8")).toHaveLength(200_000);
  });

  test("accepts an empty layer", async () => {
    const box = sandbox();
    expect((await unpackLayer(box.blob(tarArchive([])), box.target)).entries).toBe(0);
    expect((await unpackLayer(box.blob(new Uint8Array()), box.target)).entries).toBe(0);
    expect((await unpackLayer(box.blob(compress(tarArchive([]), "gzip")), box.target)).entries).toBe(0);
    expect(readdirSync(box.target)).toEqual([]);
  });

  test("whiteouts delete lower-layer paths and are not written", async () => {
    const box = sandbox();
    await unpackLayer(
      box.layer([
        dir("a/"),
        file("a/keep", "k"),
        file("a/gone", "g"),
        dir("b/"),
        file("b/x", "x"),
        file("c", "c"),
      ]),
      box.target,
    );
    const result = await unpackLayer(
      box.layer([whiteout("a/gone"), whiteout("b"), whiteout("nothing")]),
      box.target,
    );
    expect(result.whiteouts).toBe(3);
    expect(readdirSync(box.target).sort()).toEqual(["a", "c"]);
    expect(readdirSync(join(box.target, "a"))).toEqual(["keep"]);
  });

  test("an opaque directory loses lower content but keeps this layer's, wherever the marker sits", async () => {
    const box = sandbox();
    const lower = [
      dir("d/"),
      file("d/old", "o"),
      dir("d/sub/"),
      file("d/sub/old2", "o"),
      file("e/kept", "k"),
    ];
    await unpackLayer(box.layer(lower), box.target);
    const result = await unpackLayer(
      box.layer([dir("d/"), file("d/new", "n"), file("d/sub/new2", "n"), opaque("d"), file("d/later", "l")]),
      box.target,
    );
    expect(result.whiteouts).toBe(1);
    expect(readdirSync(join(box.target, "d")).sort()).toEqual(["later", "new", "sub"]);
    expect(readdirSync(join(box.target, "d/sub"))).toEqual(["new2"]);
    expect(existsSync(join(box.target, "e/kept"))).toBe(true);
    expect(existsSync(join(box.target, "d/.wh..wh..opq"))).toBe(false);
  });

  test("an opaque marker first in the layer empties the directory", async () => {
    const box = sandbox();
    await unpackLayer(box.layer([file("d/old", "o"), dir("d/old-dir/")]), box.target);
    await unpackLayer(box.layer([dir("d/"), opaque("d"), file("d/new", "n")]), box.target);
    expect(readdirSync(join(box.target, "d"))).toEqual(["new"]);
  });

  test("keeps whiteouts as overlayfs reads them when asked to", async () => {
    const box = sandbox();
    const result = await unpackLayer(
      box.layer([
        dir("data/"),
        whiteout("data/a"),
        dir("data/dir/"),
        opaque("data/dir"),
        file("data/dir/new", "n"),
        file("data/kept", "k"),
        whiteout("data/kept"),
        whiteout("implicit/parent/gone"),
      ]),
      box.target,
      { whiteouts: "overlay" },
    );
    expect(result.whiteouts).toBe(4);
    expect(result.whiteoutPaths).toEqual([
      { path: "data/a", opaque: false },
      { path: "data/dir", opaque: true },
      { path: "data/kept", opaque: false },
      { path: "implicit/parent/gone", opaque: false },
    ]);
    if (asRoot) expect(result.skipped).toEqual([]);
    for (const path of ["data/a", "implicit/parent/gone"]) {
      const marker = lstatSync(join(box.target, path));
      expect(marker.isCharacterDevice()).toBe(true);
      expect(marker.rdev).toBe(0);
    }
    expect(readFileSync(join(box.target, "data/kept"), "utf8")).toBe("k");
    expect(readdirSync(join(box.target, "data/dir"))).toEqual(["new"]);
    const xattr = spawnSync(
      "python3",
      [
        "-c",
        "import os,sys; print(os.getxattr(sys.argv[1], 'trusted.overlay.opaque'))",
        join(box.target, "data/dir"),
      ],
      { encoding: "utf8" },
    );
    if (asRoot && !xattr.error) expect(xattr.stdout.trim()).toBe("b'y'");
  });

  test("reports the diff ID of the uncompressed stream and progress through the blob", async () => {
    const box = sandbox();
    const entries = [file("a", "a".repeat(3 << 20)), file("b", "b")];
    const layer = box.layer(entries, "gzip");
    const progress: Array<[number, number]> = [];
    const result = await unpackLayer(layer, box.target, {
      onProgress: (current, total) => progress.push([current, total]),
    });
    expect(result.diffId).toBe(`sha256:${createHash("sha256").update(tarArchive(entries)).digest("hex")}`);
    const size = statSync(layer).size;
    expect(progress.at(-1)).toEqual([size, size]);
  });

  test("a whiteout does not delete what the same layer wrote", async () => {
    const box = sandbox();
    await unpackLayer(box.layer([file("x", "lower")]), box.target);
    await unpackLayer(box.layer([file("x", "upper"), whiteout("x")]), box.target);
    expect(readFileSync(join(box.target, "x"), "utf8")).toBe("upper");
  });

  test("an entry of another type replaces what is there; a directory over a directory merges", async () => {
    const box = sandbox();
    await unpackLayer(
      box.layer([
        dir("x/"),
        file("x/child", "c"),
        file("y", "y"),
        dir("z/"),
        file("z/child", "c"),
        dir("m/", { mode: 0o700 }),
        file("m/lower", "l"),
      ]),
      box.target,
    );
    await unpackLayer(
      box.layer([
        file("x", "now a file"),
        dir("y/"),
        file("y/inside", "i"),
        symlink("z", "x"),
        dir("m/", { mode: 0o711 }),
      ]),
      box.target,
    );
    expect(readFileSync(join(box.target, "x"), "utf8")).toBe("now a file");
    expect(readdirSync(join(box.target, "y"))).toEqual(["inside"]);
    expect(readlinkSync(join(box.target, "z"))).toBe("x");
    expect(lstatSync(join(box.target, "m")).mode & 0o7777).toBe(0o711);
    expect(readdirSync(join(box.target, "m"))).toEqual(["lower"]);
  });

  test("a layer entry can be a later entry's symlinked parent, within the root", async () => {
    const box = sandbox();
    await unpackLayer(
      box.layer([
        dir("usr/lib/"),
        symlink("lib", "usr/lib"),
        file("lib/libc.so", "c"),
        symlink("lib64", "/lib"),
      ]),
      box.target,
    );
    await unpackLayer(box.layer([file("lib64/ld.so", "ld")]), box.target);
    expect(readdirSync(join(box.target, "usr/lib")).sort()).toEqual(["ld.so", "libc.so"]);
  });

  test("stops when the signal aborts", async () => {
    const box = sandbox();
    const layer = box.layer([file("a", "a")]);
    const err = await rejection(unpackLayer(layer, box.target, { signal: AbortSignal.abort() }));
    expect(err.code).toBe("interrupted");
    const big = box.layer([file("a", new Uint8Array(8 << 20)), file("b", "b")], "gzip");
    const controller = new AbortController();
    const running = unpackLayer(big, box.target, { signal: controller.signal });
    queueMicrotask(() => controller.abort());
    expect((await rejection(running)).code).toBe("interrupted");
    expect(existsSync(join(box.target, "b"))).toBe(false);
  });
});

describe("unpackLayer on hostile layers", () => {
  test("'..' climbing out of the root rejects the layer", async () => {
    const box = sandbox();
    for (const name of ["../../escape", "a/../../escape", "/../escape", "./../escape"]) {
      const err = await outsideUnchanged(box, () =>
        rejection(unpackLayer(box.layer([file("fine", "ok"), file(name, "pwned")]), box.target)),
      );
      expect(err.code).toBe("integrity");
      expect(err.message).toContain(name);
    }
    expect(existsSync(join(box.base, "deep", "escape"))).toBe(false);
    expect(existsSync(join(box.base, "deep", "er", "escape"))).toBe(false);
  });

  test("'..' that stays inside the root is allowed", async () => {
    const box = sandbox();
    await unpackLayer(box.layer([file("a/b/../c", "c")]), box.target);
    expect(readFileSync(join(box.target, "a/c"), "utf8")).toBe("c");
  });

  test("absolute paths land inside the root", async () => {
    const box = sandbox();
    await outsideUnchanged(box, () =>
      unpackLayer(box.layer([file("/abs/path", "x"), file(`${box.outside}/secret`, "pwned")]), box.target),
    );
    expect(readFileSync(join(box.target, "abs/path"), "utf8")).toBe("x");
    expect(readFileSync(join(box.target, box.outside, "secret"), "utf8")).toBe("pwned");
  });

  test("a symlink to outside is created but never followed by later entries", async () => {
    const box = sandbox();
    await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([
          symlink("evil", box.outside),
          file("evil/pwned", "x"),
          file("evil/secret", "overwritten"),
        ]),
        box.target,
      ),
    );
    expect(readlinkSync(join(box.target, "evil"))).toBe(box.outside);
    expect(readFileSync(join(box.target, box.outside, "pwned"), "utf8")).toBe("x");
    expect(readFileSync(join(box.target, box.outside, "secret"), "utf8")).toBe("overwritten");
  });

  test("a symlink planted by a lower layer is not followed by an upper one", async () => {
    const box = sandbox();
    await unpackLayer(
      box.layer([symlink("evil", box.outside), symlink("rel", "../../../outside")]),
      box.target,
    );
    await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([
          file("evil/secret", "overwritten"),
          dir("evil/sub/", { mode: 0o777 }),
          file("rel/pwned", "x"),
        ]),
        box.target,
      ),
    );
    expect(readFileSync(join(box.target, box.outside, "secret"), "utf8")).toBe("overwritten");
    expect(lstatSync(join(box.target, box.outside, "sub")).mode & 0o7777).toBe(0o777);
    expect(readFileSync(join(box.target, "outside/pwned"), "utf8")).toBe("x");
  });

  test("a chain of symlinks climbing with '..' stops at the root", async () => {
    const box = sandbox();
    await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([symlink("a", "b"), symlink("b", "../../.."), file("a/escaped", "x")]),
        box.target,
      ),
    );
    expect(readFileSync(join(box.target, "escaped"), "utf8")).toBe("x");
    expect(existsSync(join(box.base, "escaped"))).toBe(false);
  });

  test("a symlink loop rejects the layer", async () => {
    const box = sandbox();
    const err = await outsideUnchanged(box, () =>
      rejection(unpackLayer(box.layer([symlink("loop", "loop"), file("loop/x", "x")]), box.target)),
    );
    expect(err.code).toBe("integrity");
    expect(err.message).toContain("too many levels of symbolic links");
  });

  test("a hard link climbing out of the root rejects the layer", async () => {
    const box = sandbox();
    const err = await outsideUnchanged(box, () =>
      rejection(unpackLayer(box.layer([hardlink("stolen", "../../../outside/secret")]), box.target)),
    );
    expect(err.code).toBe("integrity");
    expect(err.message).toContain("stolen");
    expect(existsSync(join(box.target, "stolen"))).toBe(false);
  });

  test("a hard link to an absolute host path resolves inside the root, or is rejected", async () => {
    const box = sandbox();
    const host = join(box.outside, "secret");
    const err = await outsideUnchanged(box, () =>
      rejection(unpackLayer(box.layer([hardlink("stolen", host)]), box.target)),
    );
    expect(err.code).toBe("integrity");
    expect(existsSync(join(box.target, "stolen"))).toBe(false);

    const hostname = await rejection(unpackLayer(box.layer([hardlink("h", "/etc/hostname")]), box.target));
    expect(hostname.code).toBe("integrity");

    await outsideUnchanged(box, () =>
      unpackLayer(box.layer([file("etc/hostname", "box\n"), hardlink("h", "/etc/hostname")]), box.target),
    );
    expect(lstatSync(join(box.target, "h")).ino).toBe(lstatSync(join(box.target, "etc/hostname")).ino);
    expect(lstatSync(join(box.target, "h")).ino).not.toBe(lstatSync("/etc/hostname").ino);
  });

  test("a hard link through a symlinked parent resolves inside the root", async () => {
    const box = sandbox();
    const err = await outsideUnchanged(box, () =>
      rejection(
        unpackLayer(box.layer([symlink("lnk", box.outside), hardlink("h", "lnk/secret")]), box.target),
      ),
    );
    expect(err.code).toBe("integrity");
    // A hard link to a symlink links the symlink itself, never what it points to.
    await outsideUnchanged(box, () =>
      unpackLayer(box.layer([symlink("s", join(box.outside, "secret")), hardlink("h", "s")]), box.target),
    );
    expect(readlinkSync(join(box.target, "h"))).toBe(join(box.outside, "secret"));
  });

  test("a whiteout through a symlinked parent deletes nothing outside", async () => {
    const box = sandbox();
    await unpackLayer(box.layer([symlink("evil", box.outside), symlink("up", "../../..")]), box.target);
    const result = await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([whiteout("evil/secret"), whiteout("evil/sub"), whiteout("up/outside"), opaque("evil")]),
        box.target,
      ),
    );
    expect(result.whiteouts).toBe(4);
    expect(readFileSync(join(box.outside, "secret"), "utf8")).toBe("original\n");
  });

  test("overlay whiteouts through a symlinked parent are made inside the root", async () => {
    const box = sandbox();
    const result = await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([
          symlink("evil", box.outside),
          whiteout("evil/secret"),
          opaque("evil/sub"),
          opaque("evil"),
        ]),
        box.target,
        { whiteouts: "overlay" },
      ),
    );
    expect(result.whiteouts).toBe(3);
    expect(lstatSync(join(box.target, box.outside, "secret")).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(box.target, box.outside, "sub")).isDirectory()).toBe(true);
  });

  test("a whiteout naming '.' or '..' rejects the layer", async () => {
    const box = sandbox();
    for (const name of ["sub/.wh..", "sub/.wh...", ".wh..."]) {
      const err = await outsideUnchanged(box, () =>
        rejection(unpackLayer(box.layer([dir("sub/"), file(name)]), box.target)),
      );
      expect(err.code).toBe("integrity");
    }
  });

  test("a file replaces a symlink to outside instead of writing through it", async () => {
    const box = sandbox();
    const secret = join(box.outside, "secret");
    await unpackLayer(box.layer([symlink("link", secret)]), box.target);
    await outsideUnchanged(box, () =>
      unpackLayer(box.layer([file("link", "new", { mode: 0o666 }), hardlink("link2", "link")]), box.target),
    );
    expect(lstatSync(join(box.target, "link")).isFile()).toBe(true);
    expect(readFileSync(join(box.target, "link"), "utf8")).toBe("new");
    // Same within one layer.
    await outsideUnchanged(box, () =>
      unpackLayer(box.layer([symlink("same", secret), file("same", "mine")]), box.target),
    );
    expect(readFileSync(join(box.target, "same"), "utf8")).toBe("mine");
  });

  test("a directory entry over a symlink to outside chmods and chowns nothing outside", async () => {
    const box = sandbox();
    await unpackLayer(
      box.layer([symlink("d", box.outside), symlink("f", join(box.outside, "secret"))]),
      box.target,
    );
    await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([dir("d/", { mode: 0o777, uid: 4242, mtime: 1 }), dir("f/", { mode: 0o777, uid: 4242 })]),
        box.target,
      ),
    );
    const d = lstatSync(join(box.target, "d"));
    expect(d.isDirectory()).toBe(true);
    expect(d.mode & 0o7777).toBe(0o777);
    if (asRoot) expect(d.uid).toBe(4242);
  });

  test("a directory swapped for a symlink mid-layer is not trusted any more", async () => {
    const box = sandbox();
    await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([
          dir("a/"),
          file("a/x", "x"),
          symlink("a", box.outside),
          file("a/secret", "mine"),
          dir("a/sub/"),
        ]),
        box.target,
      ),
    );
    expect(readFileSync(join(box.target, box.outside, "secret"), "utf8")).toBe("mine");
  });

  test("metadata deferred for a directory later swapped for a symlink is not applied through it", async () => {
    const box = sandbox();
    await outsideUnchanged(box, () =>
      unpackLayer(
        box.layer([
          dir("a/sub/", { mode: 0o777, mtime: 1 }),
          file("a", "file now"),
          symlink("a", box.outside),
        ]),
        box.target,
      ),
    );
  });

  test("a truncated gzip layer is an integrity error", async () => {
    const box = sandbox();
    const whole = compress(tarArchive([file("f", new Uint8Array(200_000).fill(7)), file("g", "g")]), "gzip");
    for (const cut of [whole.length - 4, Math.floor(whole.length / 2), 20]) {
      const err = await rejection(unpackLayer(box.blob(whole.subarray(0, cut)), box.target));
      expect(err.code).toBe("integrity");
      expect(err.message).toContain("layer is truncated or corrupt");
    }
  });

  test("a truncated zstd layer is an integrity error", async () => {
    const box = sandbox();
    const whole = compress(
      tarArchive([
        file(
          "f",
          new Uint8Array(200_000).map((_, i) => i % 13),
        ),
      ]),
      "zstd",
    );
    for (const cut of [whole.length - 3, Math.floor(whole.length / 2), 8]) {
      const err = await rejection(unpackLayer(box.blob(whole.subarray(0, cut)), box.target));
      expect(err.code).toBe("integrity");
    }
  });

  test("a truncated or corrupt tar is an integrity error", async () => {
    const box = sandbox();
    const whole = tarArchive([file("f", new Uint8Array(5000).fill(1)), file("g", "g")]);
    for (const cut of [2000, 512 + 100, 300]) {
      const err = await rejection(unpackLayer(box.blob(whole.subarray(0, cut)), box.target));
      expect(err.code).toBe("integrity");
      expect(err.message).toContain("layer is truncated or corrupt");
    }
    const badSum = whole.slice();
    badSum[10] = 0x41; // name byte changed, checksum not
    expect((await rejection(unpackLayer(box.blob(badSum), box.target))).code).toBe("integrity");
    const noise = new Uint8Array(4096).map((_, i) => (i * 31 + 7) % 256);
    expect((await rejection(unpackLayer(box.blob(noise), box.target))).code).toBe("integrity");
  });

  test("an entry claiming more bytes than the stream holds is an integrity error", async () => {
    const box = sandbox();
    for (const size of [7 * 2 ** 30, 2 ** 50]) {
      const layer = box.blob(tarArchive([{ name: "huge", data: "tiny", size }, file("after", "a")]));
      const started = performance.now();
      const err = await rejection(unpackLayer(layer, box.target));
      expect(err.code).toBe("integrity");
      expect(performance.now() - started).toBeLessThan(5000);
    }
  });
});

describe("unpackLayer speed", () => {
  test("a busybox-like layer: one static binary and ~400 symlinks", async () => {
    const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((path) => existsSync(path));
    if (busybox === undefined) {
      console.warn(
        "skipping the busybox-like layer test: no busybox binary (.ci/run installs busybox-static)",
      );
      return;
    }
    const applets = spawnSync(busybox, ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    // The busybox image links every applet to the one binary; make ~400 symlinks out of ~270 applets.
    const links = [
      ...applets.map((applet) => symlink(`bin/${applet}`, "busybox")),
      ...applets.slice(0, 400 - applets.length).map((applet) => symlink(`usr/bin/${applet}`, "/bin/busybox")),
    ];
    const entries: TarEntry[] = [
      dir("bin/"),
      file("bin/busybox", readFileSync(busybox), { mode: 0o755 }),
      dir("usr/"),
      dir("usr/bin/"),
      ...links,
      dir("etc/"),
      file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
      dir("tmp/", { mode: 0o1777 }),
    ];
    const box = sandbox();
    const times: string[] = [];
    for (const compression of ["none", "gzip", "zstd"] as const) {
      const blob = box.blob(compress(tarArchive(entries), compression));
      const runs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const target = mkdtempSync(join(box.base, "bb-"));
        const started = performance.now();
        const result = await unpackLayer(blob, target);
        runs.push(performance.now() - started);
        expect(result.entries).toBe(entries.length);
      }
      runs.sort((a, b) => a - b);
      times.push(`${compression} ${runs[2]!.toFixed(1)} ms`);
    }
    console.log(`busybox-like layer (binary + ${links.length} symlinks), median of 5: ${times.join(", ")}`);
  });
});
