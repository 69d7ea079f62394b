import { afterEach, beforeEach, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create as createTar } from "tar";
import { parseSha256Sums, releaseArchives, verifyRelease } from "./release.ts";

const VERSION = "1.2.3";
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "a3s-release-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Lays out dist/release the way `scripts/build.ts --all` does, with stand-in binaries. */
async function fakeRelease({
  files = ["a3s", "completions/a3s.bash", "completions/_a3s", "completions/a3s.fish"],
  binaryMode = 0o755,
} = {}) {
  const stage = join(dir, "stage");
  const sums: string[] = [];
  for (const archive of releaseArchives(VERSION)) {
    if (archive.endsWith(".zip")) {
      writeFileSync(join(dir, archive), "PK\u0005\u0006 stand-in zip");
    } else {
      const top = archive.replace(/\.tar\.gz$/, "");
      for (const file of files) {
        mkdirSync(join(stage, top, file, ".."), { recursive: true });
        writeFileSync(join(stage, top, file), `${file} for ${top}\n`);
      }
      chmodSync(join(stage, top, "a3s"), binaryMode);
      await createTar({ gzip: true, file: join(dir, archive), cwd: stage, portable: true }, [top]);
    }
    sums.push(`${sha256Of(join(dir, archive))}  ${archive}`);
  }
  writeFileSync(join(dir, "SHA256SUMS"), `${sums.join("\n")}\n`);
}

function sha256Of(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

test("the release has four unix archives and one windows zip", () => {
  expect(releaseArchives(VERSION)).toEqual([
    "a3s-1.2.3-darwin-arm64.tar.gz",
    "a3s-1.2.3-darwin-x64.tar.gz",
    "a3s-1.2.3-linux-arm64.tar.gz",
    "a3s-1.2.3-linux-x64.tar.gz",
    "a3s-1.2.3-windows-x64.zip",
  ]);
});

test("parseSha256Sums reads text and binary mode lines of sha256sum", () => {
  const a = "a".repeat(64);
  const b = "b".repeat(64);
  expect(parseSha256Sums(`${a}  one.tar.gz\n${b} *two.zip\nnot a line\n`)).toEqual(
    new Map([
      ["one.tar.gz", a],
      ["two.zip", b],
    ]),
  );
});

test("a complete release yields the checksums of every archive", async () => {
  await fakeRelease();
  const { sha256, problems } = await verifyRelease(dir, VERSION);
  expect(problems).toEqual([]);
  for (const archive of releaseArchives(VERSION)) expect(sha256[archive]).toBe(sha256Of(join(dir, archive)));
});

test("an archive that differs from SHA256SUMS is reported", async () => {
  await fakeRelease();
  writeFileSync(join(dir, "a3s-1.2.3-linux-x64.tar.gz"), "tampered");
  const { sha256, problems } = await verifyRelease(dir, VERSION);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toStartWith("a3s-1.2.3-linux-x64.tar.gz: sha256 is ");
  expect(problems[0]).toContain("but SHA256SUMS says");
  expect(sha256["a3s-1.2.3-linux-x64.tar.gz"]).toBeUndefined();
});

test("missing archives, lines and SHA256SUMS are reported", async () => {
  await fakeRelease();
  rmSync(join(dir, "a3s-1.2.3-darwin-arm64.tar.gz"));
  const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8");
  writeFileSync(join(dir, "SHA256SUMS"), sums.replace(/^.*windows-x64\.zip\n/m, ""));
  expect((await verifyRelease(dir, VERSION)).problems).toEqual([
    `a3s-1.2.3-darwin-arm64.tar.gz is missing from ${dir}`,
    "a3s-1.2.3-windows-x64.zip has no line in SHA256SUMS",
  ]);
  rmSync(join(dir, "SHA256SUMS"));
  expect((await verifyRelease(dir, VERSION)).problems).toEqual([`${join(dir, "SHA256SUMS")} is missing`]);
});

test("a tarball without the files the formula installs is reported", async () => {
  await fakeRelease({ files: ["a3s", "completions/a3s.bash"] });
  const { problems } = await verifyRelease(dir, VERSION);
  expect(problems).toContain(
    "a3s-1.2.3-linux-arm64.tar.gz does not contain a3s-1.2.3-linux-arm64/completions/_a3s",
  );
  expect(problems).toContain(
    "a3s-1.2.3-darwin-x64.tar.gz does not contain a3s-1.2.3-darwin-x64/completions/a3s.fish",
  );
  expect(problems).toHaveLength(8);
});

test("a binary without the executable bit is reported", async () => {
  await fakeRelease({ binaryMode: 0o644 });
  const { problems } = await verifyRelease(dir, VERSION);
  expect(problems).toContain("a3s-1.2.3-linux-x64/a3s is not executable");
  expect(problems).toHaveLength(4);
});
