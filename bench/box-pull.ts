/**
 * Image pull figures of the compiled binary side by side with Debian's skopeo, both measured in the
 * same run against one local registry (Debian's docker-registry on loopback), so the ratio is fair:
 *   - cold pull of a 5-layer image (busybox + 4 × 30 MiB) into an empty A3S_HOME / a fresh OCI dir
 *     per run, a3s and skopeo interleaved; plus the a3s download phase and unpack phase on their
 *     own, and the pull into a brand-new home (which creates the database as well);
 *   - the same pull again into a warm home (everything cached), and `box images`;
 *   - rootfs assembly of a busybox image from cached layers, in process (overlay and copy).
 *   bun bench/box-pull.ts [--runs 7] [--binary path/to/a3s]
 * Exits 0 whether or not the targets are met; a missed target is printed as MISSED.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBoxContext } from "../src/box/context.ts";
import { assembleRootfs, destroyRootfs, overlaySupported } from "../src/box/oci/rootfs.ts";
import { pathsFor } from "../src/core/paths.ts";
import { buildLayer, busyboxLayer, largeImage, pushImage } from "../tests/fixtures/images.ts";
import { startRegistry } from "../tests/fixtures/registry.ts";
import { formatTable, type Row, stats } from "./lib/report.ts";

const ROOT = join(import.meta.dir, "..");
const flag = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const COLD_RUNS = Number(flag("--runs")) || 7;
const CACHED_RUNS = 10;
const ASSEMBLY_RUNS = 20;
const WARMUP = 2;
const MB = 1024 * 1024;

function progress(message: string): void {
  process.stderr.write(`· ${message}\n`);
}

function run(cmd: string[], env: Record<string, string> = {}): number {
  const start = performance.now();
  const result = Bun.spawnSync(cmd, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  const elapsed = performance.now() - start;
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${result.exitCode}: ${result.stderr}`);
  return elapsed;
}

/** Writes back what earlier runs left dirty, so one run's writeback is not billed to the next. */
function settle(): void {
  Bun.spawnSync(["sync"]);
}

/**
 * One `a3s --json box pull`: wall time, and when the last "Download complete" event arrived (the end
 * of the download phase; unpacking of earlier layers overlaps it).
 */
async function timedPull(
  binary: string,
  home: string,
  ref: string,
): Promise<{ total: number; downloads: number }> {
  const start = performance.now();
  const proc = Bun.spawn([binary, "--json", "box", "pull", ref], {
    env: { ...process.env, A3S_HOME: home },
    stdout: "pipe",
    stderr: "pipe",
  });
  let downloads = 0;
  let pending = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    const now = performance.now() - start;
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    if (lines.some((line) => line.includes('"status":"Download complete"'))) downloads = now;
  }
  const code = await proc.exited;
  const total = performance.now() - start;
  if (code !== 0)
    throw new Error(`a3s box pull ${ref} exited ${code}: ${await new Response(proc.stderr).text()}`);
  return { total, downloads };
}

function skopeoCopy(ref: string, destination: string): number {
  return run([
    "skopeo",
    "--insecure-policy",
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    `docker://${ref}`,
    destination,
  ]);
}

/**
 * A containers-storage store (overlay driver, as podman uses it) under `dir`: a skopeo copy into it
 * downloads, verifies, unpacks each layer into the store and checks its diff_id, like a3s does.
 */
const storage = (dir: string) => `containers-storage:[overlay@${dir}/root+${dir}/run]`;

/** The overlay driver leaves its home bind-mounted on itself; unmount before copying or deleting it. */
function releaseStorage(dir: string): void {
  Bun.spawnSync(["umount", join(dir, "root", "overlay")], { stdout: "ignore", stderr: "ignore" });
}

/** Extracts each blob with GNU tar into its own directory, all at once (a3s unpacks layers in parallel too). */
function gnuTar(blobs: string[], dir: string): number {
  const script = blobs
    .map((blob, i) => `mkdir -p '${dir}/${i}' && tar -xzf '${blob}' -C '${dir}/${i}' &`)
    .join("\n");
  return run(["sh", "-c", `${script}\nwait`]);
}

// ── Setup ────────────────────────────────────────────────────────────────────────────────────────

const binary = flag("--binary") ?? join(ROOT, "dist", "a3s");
if (!flag("--binary")) {
  progress("building dist/a3s");
  run([process.execPath, "scripts/build.ts"]);
}
const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-pull-"));
const registry = await startRegistry();
const rows: Row[] = [];
const notes: string[] = [];

try {
  const layers = [busyboxLayer(), ...largeImage(120, 4)];
  const large = `${registry.host}/bench/large:1`;
  const busybox = `${registry.host}/bench/busybox:1`;
  progress(`pushing ${large} and ${busybox}`);
  await pushImage(registry, "bench/large", "1", { layers });
  await pushImage(registry, "bench/busybox", "1", { layers: [busyboxLayer()] });
  await pushImage(registry, "bench/init", "1", {
    layers: [buildLayer([{ path: "init", content: "init\n" }])],
  });
  const compressed = layers.reduce((sum, layer) => sum + layer.size, 0);

  // ── Cold pull ──────────────────────────────────────────────────────────────────────────────────
  // Storage checks overlay features once per store; a template store holding only a tiny unrelated
  // image keeps that out of the timed runs.
  const template = join(scratch, "storage-template");
  let storageError: string | undefined;
  try {
    skopeoCopy(`${registry.host}/bench/init:1`, `${storage(template)}bench/init:1`);
  } catch (err) {
    storageError = (err as Error).message.split("\n")[0];
    notes.push(`skopeo → containers-storage not measured: ${storageError}`);
  } finally {
    releaseStorage(template);
  }

  // A cold pull is of an image the home has never seen, into a home that exists: any earlier a3s
  // command creates it (and its database), as skopeo's run starts with its binary installed. A pull
  // into a brand-new home, which also creates the database, is timed apart.
  const homeTemplate = join(scratch, "home-template");
  run([binary, "box", "images"], { A3S_HOME: homeTemplate });

  progress(`cold pull, ${COLD_RUNS} runs each (+1 warm-up), interleaved`);
  const cold = {
    a3s: [] as number[],
    downloads: [] as number[],
    unpack: [] as number[],
    newHome: [] as number[],
  };
  const reference = { skopeo: [] as number[], storage: [] as number[], tar: [] as number[] };
  for (let i = -1; i < COLD_RUNS; i++) {
    const home = join(scratch, `cold-${i}`);
    const layout = join(scratch, `oci-${i}`);
    const store = join(scratch, `storage-${i}`);
    const runners: Array<() => Promise<void> | void> = [
      async () => {
        cpSync(homeTemplate, home, { recursive: true });
        settle();
        const { total, downloads } = await timedPull(binary, home, large);
        // Blobs stay, the layer cache goes: the next pull only unpacks.
        rmSync(pathsFor(home).layers, { recursive: true, force: true });
        settle();
        const unpack = (await timedPull(binary, home, large)).total;
        if (i < 0) return;
        cold.a3s.push(total);
        cold.downloads.push(downloads);
        cold.unpack.push(unpack);
      },
      async () => {
        const newHome = join(scratch, `new-home-${i}`);
        settle();
        const { total } = await timedPull(binary, newHome, large);
        if (i >= 0) cold.newHome.push(total);
        rmSync(newHome, { recursive: true, force: true });
      },
      () => {
        settle();
        const elapsed = skopeoCopy(large, `oci:${layout}:bench`);
        if (i >= 0) reference.skopeo.push(elapsed);
      },
      () => {
        if (storageError) return;
        cpSync(template, store, { recursive: true, verbatimSymlinks: true });
        settle();
        try {
          const elapsed = skopeoCopy(large, `${storage(store)}${large}`);
          if (i >= 0) reference.storage.push(elapsed);
        } finally {
          releaseStorage(store);
        }
      },
    ];
    // Rotate who goes first, so no one always meets the others' writeback or a warmer cache.
    for (let k = 0; k < runners.length; k++) await runners[(k + i + 1) % runners.length]?.();

    const blobs = layers.map((layer) => join(pathsFor(home).blobs, layer.digest.slice(7)));
    const untar = join(scratch, `tar-${i}`);
    settle();
    const elapsed = gnuTar(blobs, untar);
    if (i >= 0) reference.tar.push(elapsed);
    for (const dir of [layout, store, untar]) rmSync(dir, { recursive: true, force: true });
    if (i < COLD_RUNS - 1) rmSync(home, { recursive: true, force: true });
  }
  const label = `${layers.length} layers, ${(compressed / MB).toFixed(0)} MiB`;
  rows.push(
    {
      label: `cold pull (${label})`,
      a3s: stats(cold.a3s),
      ref: stats(reference.skopeo),
      target: { kind: "ratio", value: 1.3 },
    },
    {
      label: "  a3s download phase (last layer in)",
      a3s: stats(cold.downloads),
      ref: stats(reference.skopeo),
    },
    { label: "  a3s unpack only (blobs cached)", a3s: stats(cold.unpack), ref: stats(reference.tar) },
    {
      label: "  into a brand-new home (+ database)",
      a3s: stats(cold.newHome),
      ref: stats(reference.skopeo),
    },
  );
  if (!storageError) {
    rows.push({
      label: "  vs skopeo → containers-storage",
      a3s: stats(cold.a3s),
      ref: stats(reference.storage),
    });
  }

  // ── Cached pull, images ────────────────────────────────────────────────────────────────────────
  progress(`cached pull and images, ${CACHED_RUNS} runs each`);
  const warm = join(scratch, `cold-${COLD_RUNS - 1}`);
  const warmLayout = join(scratch, "oci-warm");
  skopeoCopy(large, `oci:${warmLayout}:bench`);
  const cached = { a3s: [] as number[], skopeo: [] as number[], images: [] as number[] };
  const floor = { a3s: [] as number[], skopeo: [] as number[] };
  for (let i = -WARMUP; i < CACHED_RUNS; i++) {
    const a3s = run([binary, "box", "pull", large], { A3S_HOME: warm });
    const skopeo = skopeoCopy(large, `oci:${warmLayout}:bench`);
    const images = run([binary, "box", "images"], { A3S_HOME: warm });
    const a3sFloor = run([binary, "--version"], { A3S_HOME: warm });
    const skopeoFloor = run(["skopeo", "--version"]);
    if (i < 0) continue;
    cached.a3s.push(a3s);
    cached.skopeo.push(skopeo);
    cached.images.push(images);
    floor.a3s.push(a3sFloor);
    floor.skopeo.push(skopeoFloor);
  }
  rows.push(
    {
      label: "cached pull (same home / OCI dir)",
      a3s: stats(cached.a3s),
      ref: stats(cached.skopeo),
      target: { kind: "ms", value: 100 },
    },
    { label: "a3s box images", a3s: stats(cached.images) },
    { label: "process floor (--version)", a3s: stats(floor.a3s), ref: stats(floor.skopeo) },
  );

  // ── Rootfs assembly ────────────────────────────────────────────────────────────────────────────
  progress(`rootfs assembly from cached layers, ${ASSEMBLY_RUNS} runs each`);
  run([binary, "box", "pull", busybox], { A3S_HOME: warm });
  const box = openBoxContext(pathsFor(warm), {});
  try {
    const image = box.images.resolve(busybox);
    if (!image) throw new Error(`${busybox} is not in ${warm}`);
    const stores = { layers: box.layers, blobs: box.blobs };
    const boxes = join(scratch, "boxes");
    mkdirSync(boxes);

    const overlay = { assemble: [] as number[], release: [] as number[] };
    let overlayError = overlaySupported() ? undefined : "needs root and overlayfs";
    for (let i = -WARMUP; i < ASSEMBLY_RUNS && overlayError === undefined; i++) {
      const dir = join(boxes, `overlay-${i}`);
      try {
        const start = performance.now();
        const rootfs = await assembleRootfs(stores, image, dir, { mode: "overlay" });
        const assembled = performance.now();
        rootfs.release();
        const released = performance.now();
        if (i >= 0) {
          overlay.assemble.push(assembled - start);
          overlay.release.push(released - assembled);
        }
      } catch (err) {
        overlayError = (err as Error).message;
      } finally {
        destroyRootfs(dir);
      }
    }
    if (overlayError === undefined) {
      rows.push(
        {
          label: "rootfs overlay (busybox)",
          a3s: stats(overlay.assemble),
          target: { kind: "ms", value: 50 },
        },
        { label: "  overlay release (umount)", a3s: stats(overlay.release) },
      );
    } else {
      rows.push({ label: "rootfs overlay (busybox)", unavailable: "n/a", target: { kind: "ms", value: 50 } });
      notes.push(`overlay assembly not measured: ${overlayError}`);
    }

    const copy = { a3s: [] as number[], tar: [] as number[] };
    const blob = box.blobs.path(image.layers[0]?.digest ?? "");
    for (let i = -WARMUP; i < ASSEMBLY_RUNS; i++) {
      const dir = join(boxes, `copy-${i}`);
      const start = performance.now();
      await assembleRootfs(stores, image, dir, { mode: "copy" });
      const elapsed = performance.now() - start;
      destroyRootfs(dir);
      const tar = gnuTar([blob], join(boxes, `tar-${i}`));
      rmSync(join(boxes, `tar-${i}`), { recursive: true, force: true });
      if (i < 0) continue;
      copy.a3s.push(elapsed);
      copy.tar.push(tar);
    }
    rows.push({
      label: "rootfs copy (busybox)",
      a3s: stats(copy.a3s),
      ref: stats(copy.tar),
      target: { kind: "ms", value: 50 },
    });
  } finally {
    box.db.close();
  }
} finally {
  await registry.stop();
  rmSync(scratch, { recursive: true, force: true });
}

// ── Report ───────────────────────────────────────────────────────────────────────────────────────

console.log(
  formatTable(
    `box pull, ${COLD_RUNS} cold runs, ${CACHED_RUNS} cached runs, ${ASSEMBLY_RUNS} assembly runs (ms)`,
    rows,
  ),
);
console.log(
  [
    "",
    "reference: cold/cached pull → skopeo copy docker://… oci:<dir>, which downloads and verifies only; a3s",
    "  also unpacks every layer into its layer cache and hashes the uncompressed tar against the diff_id.",
    "  skopeo → containers-storage (overlay driver, as podman pull does) does that work too: same run,",
    "  fresh store per run. unpack only → GNU tar -xzf of the same blobs in parallel, no hashing;",
    "  rootfs copy → GNU tar -xzf of the busybox layer (a spawned process); floor → skopeo --version.",
    "cold pull = an image the home has never seen, into an existing home (made by `a3s box images` once);",
    "  brand-new home = the same pull into a home that does not exist yet, which creates the database too.",
    'a3s download phase = arrival of the last "Download complete" event of the --json stream (unpacking of',
    "  layers that came earlier overlaps it). unpack only = a pull into a home whose blobs are present but",
    "  whose layer cache was emptied (process start and manifest fetch included).",
    ...notes,
  ].join("\n"),
);
