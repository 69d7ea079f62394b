/**
 * The warm pool: parked guests saved with QEMU migration, one per image and VM shape, that `run`
 * restores instead of booting. Warming boots a guest deferred (native/init/PROTOCOL.md: only the image
 * is mounted), waits for READY, lets go of the control port and has QEMU save the running guest into
 * ~/.a3s/pool/<key>/state, next to its meta.json. The guest has not touched the upper disk or any
 * volume yet, so one state restores into any box of that image, each with its own disk and 9p shares
 * (sent with START). The state is only ever read. The key is pool-key.ts's.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { logger } from "../../core/log.ts";
import type { BoxContext } from "../context.ts";
import type { ImageRecord } from "../oci/images.ts";
import { parseCpus, parseMemory } from "../runtime/options.ts";
import { findVmAssets } from "./assets.ts";
import { type WarmShape, warmKey, warmKeyInput, warmVmConfig } from "./pool-key.ts";
import { type Accelerator, hostTscKhz, memoryMiB, qemuArgs, vcpus } from "./qemu.ts";
import { ensureRootfsImage } from "./rootfs-image.ts";
import { saveGuest, waitForReady } from "./save-guest.ts";

const log = logger("box.pool");

const META_FILE = "meta.json";
const STATE_FILE = "state";

export interface WarmMeta {
  key: string;
  imageId: string;
  imageRef: string;
  memoryMiB: number;
  cpus: number;
  accelerator: Accelerator;
  kernel: string;
  qemu: string;
  stateBytes: number;
  /** xxHash64 of the state, hex: a damaged state is refused before QEMU loads it into a guest. */
  stateXxh64: string;
  /** QEMU start to READY, and the save, in ms. */
  bootMs: number;
  saveMs: number;
  createdAt: string;
}

export type WarmLookup =
  | { kind: "none" }
  | { kind: "ready"; state: string; meta: WarmMeta }
  | { kind: "broken"; reason: string };

/** A pool entry as `pool ls` shows it: usable, or stale (made for another kernel, init or QEMU). */
export interface WarmEntry extends WarmMeta {
  status: "ready" | "stale" | "image removed";
}

/** `-m` and `--cpus` as `run` reads them, as the VM shape they give (256 MiB and 1 vCPU by default). */
export function warmShape(options: { memory?: string; cpus?: string }): WarmShape {
  const cpu = options.cpus === undefined ? undefined : parseCpus(options.cpus);
  return {
    memoryMiB: memoryMiB(options.memory === undefined ? undefined : parseMemory(options.memory)),
    cpus: vcpus(cpu?.quota, cpu?.period),
  };
}

/** The directory spare shares point at: empty, and shared read-only. */
export function emptyShareDir(poolDir: string): string {
  const dir = join(poolDir, ".empty");
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** Every saved guest, oldest first; a directory without a readable meta.json is skipped. */
export function listWarm(poolDir: string): WarmMeta[] {
  if (!existsSync(poolDir)) return [];
  const entries: WarmMeta[] = [];
  for (const name of readdirSync(poolDir)) {
    if (name.startsWith(".")) continue;
    try {
      entries.push(JSON.parse(readFileSync(join(poolDir, name, META_FILE), "utf8")) as WarmMeta);
    } catch {
      log.debug(`pool entry ${name} has no readable meta.json`);
    }
  }
  return entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export function removeWarm(poolDir: string, key: string): void {
  rmSync(join(poolDir, key), { recursive: true, force: true });
}

/** The saved guest under `key`, checked: its size and checksum must be what warming wrote. */
export function findWarm(poolDir: string, key: string): WarmLookup {
  const dir = join(poolDir, key);
  const metaPath = join(dir, META_FILE);
  if (!existsSync(metaPath)) return { kind: "none" };
  let meta: WarmMeta;
  try {
    meta = JSON.parse(readFileSync(metaPath, "utf8")) as WarmMeta;
  } catch (err) {
    return { kind: "broken", reason: `its meta.json is unreadable (${(err as Error).message})` };
  }
  const state = join(dir, STATE_FILE);
  let size: number;
  try {
    size = statSync(state).size;
  } catch {
    return { kind: "broken", reason: "its state file is missing" };
  }
  if (size !== meta.stateBytes) {
    return { kind: "broken", reason: `its state file has ${size} bytes instead of ${meta.stateBytes}` };
  }
  if (stateChecksum(state) !== meta.stateXxh64) {
    return { kind: "broken", reason: "its state file does not match its checksum" };
  }
  return { kind: "ready", state, meta };
}

/** ~1.5 ms for a 30 MB state in the page cache, which QEMU then reads from. */
function stateChecksum(path: string): string {
  return Bun.hash
    .xxHash64(Bun.mmap(path, { shared: false }))
    .toString(16)
    .padStart(16, "0");
}

/**
 * Boots the image's guest, parks it and saves it into the pool, replacing any older state of the
 * same image and shape (a new kernel, init or QEMU makes a new key). Returns what was saved.
 */
export async function warmImage(
  box: BoxContext,
  image: ImageRecord,
  imageRef: string,
  shape: WarmShape,
): Promise<WarmMeta> {
  const assets = findVmAssets(box.paths, box.env);
  const rootfsImage = await ensureRootfsImage(box, image);
  const key = warmKey(warmKeyInput(assets, image.id, shape));
  const poolDir = box.paths.pool;
  mkdirSync(poolDir, { recursive: true, mode: 0o700 });
  const staging = mkdtempSync(join(poolDir, ".warm-"));
  // Socket paths are limited to ~108 bytes: they go to a short temporary directory.
  const sockets = mkdtempSync(join(tmpdir(), "a3s-warm-"));
  const config = warmVmConfig(
    assets,
    {
      rootfsImage,
      controlSocket: join(sockets, "ctl"),
      consoleLog: join(staging, "console.log"),
      shares: [],
      emptyDir: emptyShareDir(poolDir),
    },
    shape,
    hostTscKhz(),
  );
  const [command = "", ...rest] = qemuArgs({ ...config, qmpSocket: join(sockets, "qmp") });
  const started = performance.now();
  const qemu = Bun.spawn([command, ...rest], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  try {
    await waitForReady(config.controlSocket, qemu);
    const bootMs = Math.round(performance.now() - started);
    const saving = performance.now();
    const statePath = join(staging, STATE_FILE);
    await saveGuest(join(sockets, "qmp"), join(sockets, "mig"), statePath, qemu);
    const meta: WarmMeta = {
      key,
      imageId: image.id,
      imageRef,
      memoryMiB: shape.memoryMiB,
      cpus: shape.cpus,
      accelerator: assets.accelerator,
      kernel: assets.kernel,
      qemu: assets.qemu,
      stateBytes: statSync(statePath).size,
      stateXxh64: stateChecksum(statePath),
      bootMs,
      saveMs: Math.round(performance.now() - saving),
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(staging, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    install(poolDir, staging, key);
    for (const older of listWarm(poolDir)) {
      if (older.key !== key && sameShape(older, meta)) removeWarm(poolDir, older.key);
    }
    log.info(
      `warmed ${imageRef} as ${key}: boot ${bootMs} ms, save ${meta.saveMs} ms, ${meta.stateBytes} bytes`,
    );
    return meta;
  } catch (err) {
    if (qemu.exitCode === null) qemu.kill("SIGKILL");
    const stderr = (await new Response(qemu.stderr).text().catch(() => "")).trim();
    const details = [stderr, readTail(config.consoleLog)].filter(Boolean).join("\n");
    throw new A3sError("runtime", `cannot warm ${imageRef}: ${(err as Error).message}`, {
      ...(details ? { hint: details } : {}),
      cause: err,
    });
  } finally {
    if (qemu.exitCode === null) qemu.kill("SIGKILL");
    rmSync(sockets, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

function sameShape(a: WarmMeta, b: WarmMeta): boolean {
  return (
    a.imageId === b.imageId &&
    a.memoryMiB === b.memoryMiB &&
    a.cpus === b.cpus &&
    a.accelerator === b.accelerator
  );
}

/** Moves a finished entry into place, over an older one of the same key. */
function install(poolDir: string, staging: string, key: string): void {
  const target = join(poolDir, key);
  const trash = `${staging}.old`;
  if (existsSync(target)) renameSync(target, trash);
  renameSync(staging, target);
  rmSync(trash, { recursive: true, force: true });
}

function readTail(path: string, lines = 5): string {
  try {
    return readFileSync(path, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

// ── What the CLI calls ───────────────────────────────────────────────────────────────────────────

/** `pool warm IMAGE`: the image must be local (`box pull` it first). */
export async function warmPool(
  box: BoxContext,
  text: string,
  options: { memory?: string; cpus?: string },
): Promise<WarmMeta> {
  const shape = warmShape(options);
  const image = box.images.resolve(text);
  if (!image)
    throw new A3sError("not_found", `No such image: ${text}`, {
      hint: `pull it first: a3s box pull ${text}`,
    });
  return warmImage(box, image, text, shape);
}

/** `pool ls`: every entry, with whether a box of its image and shape would restore it today. */
export function poolEntries(box: BoxContext): WarmEntry[] {
  let assets: ReturnType<typeof findVmAssets> | undefined;
  try {
    assets = findVmAssets(box.paths, box.env);
  } catch {
    assets = undefined;
  }
  return listWarm(box.paths.pool).map((meta): WarmEntry => {
    if (!box.images.get(meta.imageId)) return { ...meta, status: "image removed" };
    let current: string | undefined;
    try {
      current = assets ? warmKey(warmKeyInput(assets, meta.imageId, meta)) : undefined;
    } catch {
      current = undefined;
    }
    return { ...meta, status: current === meta.key ? "ready" : "stale" };
  });
}

/** `pool rm IMAGE`: every entry of the image (any shape), or the entry whose key starts with `text`. */
export function removeFromPool(box: BoxContext, text: string): WarmMeta[] {
  const imageId = box.images.resolve(text)?.id;
  const matches = listWarm(box.paths.pool).filter(
    (meta) =>
      meta.imageId === imageId ||
      meta.imageRef === text ||
      (/^[a-f0-9]{4,}$/.test(text) && meta.key.startsWith(text)),
  );
  if (matches.length === 0) throw new A3sError("not_found", `No warm snapshot of ${text}`);
  for (const meta of matches) removeWarm(box.paths.pool, meta.key);
  return matches;
}
