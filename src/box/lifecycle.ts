/**
 * The life of a box outside its supervisor: create the record and directory, start the supervisor,
 * stop, kill, wait, remove, and reconcile what the database says with what is really running.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../core/errors.ts";
import { logger } from "../core/log.ts";
import type { Paths } from "../core/paths.ts";
import type { BoxRecord, BoxSpec } from "./boxes.ts";
import type { BoxContext } from "./context.ts";
import { findVmAssets } from "./microvm/assets.ts";
import { generateName, VALID_NAME } from "./names.ts";
import type { ImageRecord } from "./oci/images.ts";
import { destroyRootfs, unmountRootfs } from "./oci/rootfs.ts";
import { isSameProcessAlive } from "./process.ts";
import { MicroVmRuntime } from "./runtime/microvm.ts";
import { OciCliRuntime } from "./runtime/oci.ts";
import { detectHybridCgroups } from "./runtime/oci-cli.ts";
import type { BoxRuntime } from "./runtime/runtime.ts";

const log = logger("box.lifecycle");

export function boxDir(paths: Paths, id: string): string {
  return join(paths.boxes, id);
}

export function logPath(paths: Paths, id: string): string {
  return join(boxDir(paths, id), `${id}-json.log`);
}

let hybrid: boolean | undefined;

/** The backend a box runs on: a microVM, or the OCI runtime it names. */
export function runtimeFor(
  box: Pick<BoxContext, "paths" | "env">,
  spec: Pick<BoxSpec, "runtime" | "isolation">,
): BoxRuntime {
  if (spec.isolation === "microvm") {
    return new MicroVmRuntime(
      findVmAssets(box.paths, box.env),
      (id) => boxDir(box.paths, id),
      box.paths.pool,
    );
  }
  hybrid ??= detectHybridCgroups();
  return new OciCliRuntime(
    spec.runtime,
    { hybridCgroups: hybrid },
    join(box.paths.home, "run", spec.runtime),
  );
}

export interface CreateInput {
  image: ImageRecord;
  imageRef: string;
  name?: string;
  command: string[];
  spec: Omit<BoxSpec, "hostname"> & { hostname?: string };
  labels: Record<string, string>;
}

export function createBox(box: BoxContext, input: CreateInput): BoxRecord {
  if (input.name !== undefined && !VALID_NAME.test(input.name)) {
    throw new A3sError(
      "usage",
      `invalid box name '${input.name}': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      {
        exitCode: 125,
      },
    );
  }
  const id = randomBytes(32).toString("hex");
  const name = input.name ?? generateName((candidate) => box.boxes.byName(candidate) !== undefined);
  const spec: BoxSpec = { ...input.spec, hostname: input.spec.hostname ?? id.slice(0, 12) };
  box.boxes.insert({
    id,
    name,
    imageId: input.image.id,
    imageRef: input.imageRef,
    command: input.command,
    spec,
    labels: input.labels,
    createdAt: new Date().toISOString(),
  });
  mkdirSync(boxDir(box.paths, id), { recursive: true, mode: 0o700 });
  return box.boxes.get(id) as BoxRecord;
}

/** The command that runs a3s itself: the compiled binary, or bun with the entry script in a checkout. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

/**
 * Starts the box's supervisor as a detached process, so the box outlives this command. With
 * `waitAttach` the supervisor holds the box until a client attaches, so no output is missed.
 */
export function spawnSupervisor(box: BoxContext, record: BoxRecord, waitAttach: boolean): number {
  const dir = boxDir(box.paths, record.id);
  // "created" until the supervisor has the box running (`start` of a stopped box waits on that).
  // Written before the spawn: a fast supervisor must never have its "running" overwritten.
  box.boxes.update(record.id, {
    status: "created",
    supervisorPid: undefined,
    supervisorStart: undefined,
    stopRequested: false,
    error: undefined,
  });
  const logFd = openSync(join(dir, "supervisor.log"), "a", 0o600);
  try {
    const args = [...selfCommand(), "--home", box.paths.home, "box", "supervise", record.id];
    if (waitAttach) args.push("--wait-attach");
    const [command = "", ...rest] = args;
    const child = spawn(command, rest, { detached: true, stdio: ["ignore", logFd, logFd], env: box.env });
    child.unref();
    if (child.pid === undefined) throw new A3sError("runtime", "could not start the box supervisor");
    // Until the supervisor records itself (pid and start time), this pid lets others see it is alive.
    box.boxes.claimSupervisor(record.id, child.pid);
    return child.pid;
  } finally {
    closeSync(logFd);
  }
}

/** The last lines the supervisor wrote to its own log: why it died, when it did. */
export function supervisorLogTail(paths: Paths, id: string, lines = 5): string {
  try {
    return readFileSync(join(boxDir(paths, id), "supervisor.log"), "utf8")
      .trim()
      .split("\n")
      .slice(-lines)
      .join("\n");
  } catch {
    return "";
  }
}

function supervisorAlive(record: BoxRecord): boolean {
  return isSameProcessAlive(record.supervisorPid, record.supervisorStart);
}

/**
 * A box the database calls running whose supervisor is gone (killed, crashed, host rebooted) is
 * marked exited with the reason, and whatever the runtime still holds of it is cleaned up.
 */
export async function reconcile(box: BoxContext, record: BoxRecord): Promise<BoxRecord> {
  if (record.status !== "running" && record.status !== "restarting") return record;
  if (supervisorAlive(record)) return record;
  const runtime = runtimeFor(box, record.spec);
  await runtime.signal(record.id, "KILL").catch(() => {});
  await runtime.delete(record.id);
  try {
    unmountRootfs(boxDir(box.paths, record.id));
  } catch (err) {
    log.warn(`cannot unmount the rootfs of ${record.id}`, { error: err });
  }
  box.boxes.update(record.id, {
    status: "exited",
    exitCode: record.exitCode ?? 255,
    finishedAt: record.finishedAt ?? new Date().toISOString(),
    error: `the box's supervisor (pid ${record.supervisorPid}) died unexpectedly`,
  });
  log.warn(`box ${record.id} marked exited: supervisor ${record.supervisorPid} is gone`);
  return box.boxes.get(record.id) as BoxRecord;
}

export async function reconcileAll(box: BoxContext): Promise<BoxRecord[]> {
  return Promise.all(box.boxes.list().map((record) => reconcile(box, record)));
}

export function isRunning(record: BoxRecord): boolean {
  return record.status === "running" || record.status === "restarting";
}

/** Waits until the box's supervisor has finished with it (the box exited and was recorded). */
export async function waitForExit(
  box: BoxContext,
  id: string,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<BoxRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const record = box.boxes.get(id);
    if (!record) return undefined;
    const current = await reconcile(box, record);
    if (!isRunning(current) && !(current.status === "created" && supervisorAlive(current))) return current;
    if (Date.now() >= deadline) return current;
    await Bun.sleep(delay);
  }
}

/** `docker stop`: the stop signal, then SIGKILL after the grace period; no restart afterwards. */
export async function stopBox(box: BoxContext, record: BoxRecord, timeoutSeconds?: number): Promise<void> {
  if (!isRunning(await reconcile(box, record))) return;
  box.boxes.update(record.id, { stopRequested: true });
  const runtime = runtimeFor(box, record.spec);
  const grace = (timeoutSeconds ?? record.spec.stopTimeout) * 1000;
  await runtime
    .signal(record.id, record.spec.stopSignal)
    .catch((err) => log.debug("stop signal failed", { err }));
  const after = await waitForExit(box, record.id, grace);
  if (after && isRunning(after)) {
    await runtime.signal(record.id, "KILL").catch((err) => log.debug("kill failed", { err }));
    await waitForExit(box, record.id, 10_000);
  }
}

export async function killBox(box: BoxContext, record: BoxRecord, signal: string): Promise<void> {
  const current = await reconcile(box, record);
  if (!isRunning(current)) {
    throw new A3sError("conflict", `box ${record.name} is not running`);
  }
  if (/^(SIG)?KILL$|^9$/.test(signal.toUpperCase())) box.boxes.update(record.id, { stopRequested: true });
  await runtimeFor(box, record.spec).signal(record.id, signal);
}

/** `docker rm`: refuses a running box unless forced (then kills it first). */
export async function removeBox(box: BoxContext, record: BoxRecord, force: boolean): Promise<void> {
  const current = await reconcile(box, record);
  if (isRunning(current)) {
    if (!force) {
      throw new A3sError("conflict", `cannot remove running box ${record.name}`, {
        hint: "stop the box first, or use -f",
      });
    }
    box.boxes.update(record.id, { stopRequested: true });
    await runtimeFor(box, record.spec)
      .signal(record.id, "KILL")
      .catch(() => {});
    await waitForExit(box, record.id, 10_000);
  }
  await runtimeFor(box, record.spec).delete(record.id);
  const dir = boxDir(box.paths, record.id);
  destroyRootfs(dir);
  box.boxes.delete(record.id);
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}
