/**
 * Box snapshots: the filesystem changes and the configuration of a stopped box, kept under
 * ~/.a3s/snapshots/<id>/ so a new box can start from them. With an overlay rootfs the changes are
 * the box's upper directory (whiteouts and opaque markers included); with a copied rootfs, the copy;
 * for a microVM box, its ext4 upper disk (copied sparse, reflinked where the filesystem can).
 */
import type { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../core/errors.ts";
import type { BoxRecord, BoxSpec } from "./boxes.ts";
import type { BoxContext } from "./context.ts";
import { boxDir, createBox, isRunning, reconcile } from "./lifecycle.ts";
import {
  allocatedBytes,
  checkUpperDisk,
  copyDisk,
  ensureUpperDisk,
  UPPER_DISK_FILE,
  upperDiskPath,
} from "./microvm/upper-disk.ts";
import { VALID_NAME } from "./names.ts";

/** overlay: an upper directory; copy: a whole rootfs; disk: a microVM's upper disk. */
export type RootfsMode = "overlay" | "copy" | "disk";

export interface SnapshotRecord {
  id: string;
  name: string;
  description: string;
  boxId: string;
  boxName: string;
  imageId: string;
  imageRef: string;
  command: string[];
  spec: BoxSpec;
  labels: Record<string, string>;
  rootfsMode: RootfsMode;
  size: number;
  createdAt: string;
}

interface SnapshotRow {
  id: string;
  name: string;
  description: string;
  box_id: string;
  box_name: string;
  image_id: string;
  image_ref: string;
  command: string;
  spec: string;
  labels: string;
  rootfs_mode: RootfsMode;
  size: number;
  created_at: string;
}

function hydrate(row: SnapshotRow): SnapshotRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    boxId: row.box_id,
    boxName: row.box_name,
    imageId: row.image_id,
    imageRef: row.image_ref,
    command: JSON.parse(row.command) as string[],
    spec: JSON.parse(row.spec) as BoxSpec,
    labels: JSON.parse(row.labels) as Record<string, string>,
    rootfsMode: row.rootfs_mode,
    size: row.size,
    createdAt: row.created_at,
  };
}

export class SnapshotStore {
  constructor(private readonly db: Database) {}

  list(): SnapshotRecord[] {
    return (this.db.query("SELECT * FROM snapshots ORDER BY created_at DESC").all() as SnapshotRow[]).map(
      hydrate,
    );
  }

  /** By full ID, exact name, or unique ID prefix, as boxes are found. */
  resolve(text: string): SnapshotRecord {
    const exact = this.db
      .query("SELECT * FROM snapshots WHERE id = ? OR name = ?")
      .get(text, text) as SnapshotRow | null;
    if (exact) return hydrate(exact);
    if (/^[a-f0-9]+$/.test(text)) {
      const rows = this.db.query("SELECT * FROM snapshots WHERE id LIKE ?").all(`${text}%`) as SnapshotRow[];
      if (rows.length > 1) throw new A3sError("conflict", `multiple snapshots match '${text}'`);
      if (rows[0]) return hydrate(rows[0]);
    }
    throw new A3sError("not_found", `No such snapshot: ${text}`);
  }

  insert(snapshot: SnapshotRecord): void {
    try {
      this.db
        .query(
          `INSERT INTO snapshots (id, name, description, box_id, box_name, image_id, image_ref, command, spec, labels, rootfs_mode, size, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          snapshot.id,
          snapshot.name,
          snapshot.description,
          snapshot.boxId,
          snapshot.boxName,
          snapshot.imageId,
          snapshot.imageRef,
          JSON.stringify(snapshot.command),
          JSON.stringify(snapshot.spec),
          JSON.stringify(snapshot.labels),
          snapshot.rootfsMode,
          snapshot.size,
          snapshot.createdAt,
        );
    } catch (err) {
      if (String(err).includes("UNIQUE constraint failed: snapshots.name")) {
        throw new A3sError("conflict", `a snapshot named '${snapshot.name}' already exists`);
      }
      throw err;
    }
  }

  delete(id: string): void {
    this.db.query("DELETE FROM snapshots WHERE id = ?").run(id);
  }
}

/** Copies a tree keeping everything overlayfs relies on: devices (whiteouts), xattrs, owners, links. */
function copyTree(source: string, destination: string): void {
  const result = Bun.spawnSync(
    ["cp", "-a", "--preserve=all", "--reflink=auto", "--no-target-directory", source, destination],
    {
      stderr: "pipe",
    },
  );
  if (result.exitCode !== 0) {
    throw new A3sError("runtime", `copying ${source} failed: ${result.stderr.toString().trim()}`);
  }
}

function treeSize(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

/** The box's own filesystem changes: its upper disk, an overlay upper dir, or a full copy. */
function boxChanges(record: BoxRecord, dir: string): { path: string; mode: RootfsMode } {
  if (record.spec.isolation === "microvm") return { path: upperDiskPath(dir), mode: "disk" };
  if (existsSync(join(dir, "rootfs.copied"))) return { path: join(dir, "rootfs"), mode: "copy" };
  return { path: join(dir, "upper"), mode: "overlay" };
}

/** Copies the changes into the staging directory; returns what they take on disk. */
function keepChanges(
  record: BoxRecord,
  changes: { path: string; mode: RootfsMode },
  staging: string,
): number {
  if (changes.mode === "disk") {
    const disk = join(staging, UPPER_DISK_FILE);
    // A box that never started has no disk yet: the snapshot gets an empty one.
    if (existsSync(changes.path)) {
      checkUpperDisk(changes.path, `the disk of box ${record.name}`);
      copyDisk(changes.path, disk);
    } else {
      ensureUpperDisk(staging);
    }
    return allocatedBytes(disk);
  }
  if (existsSync(changes.path)) copyTree(changes.path, join(staging, "fs"));
  else mkdirSync(join(staging, "fs"));
  return treeSize(join(staging, "fs"));
}

export async function createSnapshot(
  box: BoxContext,
  store: SnapshotStore,
  boxName: string,
  options: { name?: string; description?: string },
): Promise<SnapshotRecord> {
  const record = await reconcile(box, box.boxes.resolve(boxName));
  if (isRunning(record)) {
    throw new A3sError("conflict", `box ${record.name} is running`, {
      hint: "stop it first: snapshots are of stopped boxes",
    });
  }
  if (options.name !== undefined && !VALID_NAME.test(options.name)) {
    throw new A3sError("usage", `invalid snapshot name '${options.name}'`);
  }
  const id = randomBytes(32).toString("hex");
  const target = join(box.paths.snapshots, id);
  const staging = `${target}.staging`;
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    const changes = boxChanges(record, boxDir(box.paths, record.id));
    const size = keepChanges(record, changes, staging);
    const snapshot: SnapshotRecord = {
      id,
      name: options.name ?? `${record.name}-${id.slice(0, 8)}`,
      description: options.description ?? "",
      boxId: record.id,
      boxName: record.name,
      imageId: record.imageId,
      imageRef: record.imageRef,
      command: record.command,
      spec: record.spec,
      labels: record.labels,
      rootfsMode: changes.mode,
      size,
      createdAt: new Date().toISOString(),
    };
    store.insert(snapshot);
    renameSync(staging, target);
    return snapshot;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A new box (created, not started) from a snapshot: same image and options, the snapshot's files. */
export function restoreSnapshot(
  box: BoxContext,
  store: SnapshotStore,
  text: string,
  options: { name?: string },
): BoxRecord {
  const snapshot = store.resolve(text);
  const image = box.images.get(snapshot.imageId);
  if (!image) {
    throw new A3sError(
      "not_found",
      `the image of snapshot ${snapshot.name} (${snapshot.imageId.slice(7, 19)}) is gone`,
      {
        hint: `pull ${snapshot.imageRef} again`,
      },
    );
  }
  const saved = join(box.paths.snapshots, snapshot.id);
  // Checked before a box exists: a damaged snapshot must not leave a half-made box behind.
  if (snapshot.rootfsMode === "disk")
    checkUpperDisk(join(saved, UPPER_DISK_FILE), `snapshot ${snapshot.name}`);
  else if (!existsSync(join(saved, "fs"))) {
    throw new A3sError(
      "not_found",
      `snapshot ${snapshot.name}: its files (${join(saved, "fs")}) are missing`,
    );
  }
  const { hostname: _hostname, ...spec } = snapshot.spec;
  const record = createBox(box, {
    image,
    imageRef: snapshot.imageRef,
    ...(options.name !== undefined ? { name: options.name } : {}),
    command: snapshot.command,
    spec: { ...spec, autoRemove: false },
    labels: { ...snapshot.labels, "a3s.snapshot": snapshot.id },
  });
  const dir = boxDir(box.paths, record.id);
  try {
    if (snapshot.rootfsMode === "disk") {
      copyDisk(join(saved, UPPER_DISK_FILE), upperDiskPath(dir));
    } else if (snapshot.rootfsMode === "copy") {
      copyTree(join(saved, "fs"), join(dir, "rootfs"));
      writeFileSync(join(dir, "rootfs.copied"), "");
    } else {
      copyTree(join(saved, "fs"), join(dir, "upper"));
    }
  } catch (err) {
    box.boxes.delete(record.id);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return record;
}

export function removeSnapshot(box: BoxContext, store: SnapshotStore, text: string): SnapshotRecord {
  const snapshot = store.resolve(text);
  store.delete(snapshot.id);
  rmSync(join(box.paths.snapshots, snapshot.id), { recursive: true, force: true });
  return snapshot;
}

/** Keeps the `keep` newest snapshots and removes the rest. */
export function pruneSnapshots(box: BoxContext, store: SnapshotStore, keep: number): SnapshotRecord[] {
  if (!Number.isInteger(keep) || keep < 0)
    throw new A3sError("usage", "--keep must be a non-negative integer");
  const removed = store.list().slice(keep);
  for (const snapshot of removed) removeSnapshot(box, store, snapshot.id);
  return removed;
}
