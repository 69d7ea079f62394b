/**
 * Compiles a3s into one executable.
 *   bun scripts/build.ts          → dist/a3s for this machine
 *   bun scripts/build.ts --all    → the release matrix in dist/<target>/, archives and SHA256SUMS in dist/release/
 */
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BunPlugin } from "bun";
import { create as createTar } from "tar";
import pkg from "../package.json" with { type: "json" };
import { findKernel } from "../src/box/microvm/kernel.ts";
import { SHORT_RUN_JIT_POLICY } from "../src/core/jit.ts";
import { pathsFor, resolveHome } from "../src/core/paths.ts";
import { buildInit } from "./build-init.ts";
import { copyLlamaAssets, llamaAssetsPlugin, llamaPlatformPackage } from "./lib/llama-assets.ts";
import { writeZip } from "./lib/zip.ts";

const ROOT = join(import.meta.dir, "..");
const DIST = join(ROOT, "dist");

interface Target {
  bun: Bun.Build.CompileTarget;
  os: "linux" | "darwin" | "windows";
  arch: "x64" | "arm64";
}

const RELEASE_TARGETS: Target[] = [
  { bun: "bun-linux-x64", os: "linux", arch: "x64" },
  { bun: "bun-linux-arm64", os: "linux", arch: "arm64" },
  { bun: "bun-darwin-x64", os: "darwin", arch: "x64" },
  { bun: "bun-darwin-arm64", os: "darwin", arch: "arm64" },
  { bun: "bun-windows-x64", os: "windows", arch: "x64" },
];

/**
 * Ink imports react-devtools-core, used only with DEV=true; the bundler must still resolve it, and
 * marking it external crashes at run time, so it becomes an empty module.
 */
const stubDevtools: BunPlugin = {
  name: "stub-react-devtools-core",
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({
      path: "react-devtools-core",
      namespace: "stub",
    }));
    build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: "export default { connectToDevTools() {} };",
      loader: "js",
    }));
  },
};

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: ROOT, stderr: "ignore" });
  const sha = result.stdout.toString().trim();
  if (result.exitCode !== 0 || sha === "") return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: ROOT });
  return dirty.stdout.toString().trim() === "" ? sha : `${sha}-dirty`;
}

async function compile(target: Target, outfile: string, commit: string): Promise<void> {
  const llamaPackage = llamaPlatformPackage(target.os, target.arch);
  const result = await Bun.build({
    // Worker threads are entry points of their own (src/box/oci/unpack/workers.ts finds this one).
    entrypoints: [join(ROOT, "cli/main.ts"), join(ROOT, "src/box/oci/unpack/worker.ts")],
    compile: {
      target: target.bun,
      outfile,
      autoloadDotenv: false,
      autoloadBunfig: false,
      jitPolicy: SHORT_RUN_JIT_POLICY,
    },
    bytecode: true,
    format: "esm",
    // One bundle evaluates every node: builtin it imports anywhere (zlib, crypto, net, tls…) at
    // start, even for modules only reached through import(); chunks load theirs when imported,
    // which takes about 5 ms off every start (`a3s --version`: 15 → 10 ms here).
    splitting: true,
    minify: true,
    define: {
      A3S_VERSION: JSON.stringify(pkg.version),
      A3S_COMMIT: JSON.stringify(commit),
      A3S_LLAMA_BUNDLED: "true",
      // React's production build: Bun's bundler otherwise keeps the development one, which costs
      // the TUI about a fifth more CPU while an answer streams (bench/code.ts).
      "process.env.NODE_ENV": JSON.stringify("production"),
    },
    plugins: [stubDevtools, llamaAssetsPlugin(llamaPackage)],
  });
  if (!result.success) {
    for (const message of result.logs) console.error(message);
    throw new Error(`build for ${target.bun} failed`);
  }
  const share = join(dirname(outfile), "share", "a3s");
  if (llamaPackage) {
    copyLlamaAssets(join(share, "node-llama-cpp"), llamaPackage);
  } else {
    console.error(`note: ${target.bun} ships without llama.cpp binaries (none installed for it here)`);
  }
}

function hostTarget(): Target {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const os = process.platform === "win32" ? "windows" : (process.platform as Target["os"]);
  return { bun: `bun-${os}-${arch}` as Bun.Build.CompileTarget, os, arch };
}

/**
 * The guest kernel and init ride in the archive of this machine's own platform (they are built here,
 * for this architecture): share/a3s/{vmlinux,init}, where the binary looks for them.
 */
async function addMicrovmAssets(target: Target, dir: string): Promise<void> {
  if (target.os !== process.platform || target.arch !== process.arch) return;
  const kernel = findKernel(pathsFor(resolveHome(process.env)));
  if (!kernel) {
    console.error(
      `note: no guest kernel on this machine; ${target.bun} ships without one (bun scripts/build-kernel.ts)`,
    );
    return;
  }
  mkdirSync(dir, { recursive: true });
  cpSync(kernel, join(dir, "vmlinux"));
  cpSync(await buildInit(join(DIST, "native")), join(dir, "init"));
}

async function buildRelease(commit: string): Promise<void> {
  const releaseDir = join(DIST, "release");
  rmSync(releaseDir, { recursive: true, force: true });
  mkdirSync(releaseDir, { recursive: true });
  const sums: string[] = [];
  for (const target of RELEASE_TARGETS) {
    const started = performance.now();
    const name = `a3s-${pkg.version}-${target.os}-${target.arch}`;
    const stage = join(DIST, target.bun, name);
    rmSync(join(DIST, target.bun), { recursive: true, force: true });
    mkdirSync(stage, { recursive: true });
    const binary = target.os === "windows" ? "a3s.exe" : "a3s";
    await compile(target, join(stage, binary), commit);
    cpSync(join(ROOT, "completions"), join(stage, "completions"), { recursive: true });
    await addMicrovmAssets(target, join(stage, "share", "a3s"));
    const archive = target.os === "windows" ? `${name}.zip` : `${name}.tar.gz`;
    const archivePath = join(releaseDir, archive);
    if (target.os === "windows") {
      writeZip(archivePath, join(DIST, target.bun), name);
    } else {
      await createTar({ gzip: true, file: archivePath, cwd: join(DIST, target.bun), portable: true }, [name]);
    }
    const digest = createHash("sha256").update(readFileSync(archivePath)).digest("hex");
    sums.push(`${digest}  ${archive}`);
    console.error(`built ${archive} in ${Math.round(performance.now() - started)} ms`);
  }
  writeFileSync(join(releaseDir, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.error(`wrote ${readdirSync(releaseDir).length} files to ${releaseDir}`);
}

const commit = gitCommit();
if (process.argv.includes("--all")) {
  await buildRelease(commit);
} else {
  const started = performance.now();
  await compile(hostTarget(), join(DIST, "a3s"), commit);
  // The microVM guest init ships next to the binary (dist/native/init); it needs a C compiler.
  if (process.platform === "linux") await buildInit(join(DIST, "native"));
  console.error(
    `built dist/a3s (${pkg.version}, ${commit}) in ${Math.round(performance.now() - started)} ms`,
  );
}
