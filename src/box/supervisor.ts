/**
 * The per-box supervisor: a detached a3s process that owns one box. It mounts the rootfs, writes the
 * bundle, runs the box through the runtime, keeps its stdio (json-file log plus attached clients),
 * records exit codes, applies the restart policy, and removes the box when --rm asked for it.
 */
import { existsSync, rmSync } from "node:fs";
import type { Socket } from "bun";
import { A3sError } from "../core/errors.ts";
import { logger } from "../core/log.ts";
import {
  attachSocketPath,
  type ExitMessage,
  encodeFrame,
  Frame,
  FrameDecoder,
  type FrameType,
} from "./attach.ts";
import type { BoxRecord } from "./boxes.ts";
import { writeBundle } from "./bundle.ts";
import type { BoxContext } from "./context.ts";
import { boxDir, logPath, removeBox, runtimeFor, selfCommand } from "./lifecycle.ts";
import { LogWriter } from "./logs.ts";
import { ensureRootfsImage } from "./microvm/rootfs-image.ts";
import { ensureUpperDisk } from "./microvm/upper-disk.ts";
import { assembleRootfs, type Rootfs } from "./oci/rootfs.ts";
import { type PublishedPorts, publishPorts } from "./ports.ts";
import { processStartTime } from "./process.ts";
import { checkExecutable } from "./runtime/executable.ts";
import {
  IMAGE_ID_ANNOTATION,
  ROOTFS_IMAGE_ANNOTATION,
  UPPER_ANNOTATION,
  VOLUMES_ANNOTATION,
} from "./runtime/microvm.ts";
import type { BoxRuntime, ExecRequest, RunningProcess } from "./runtime/runtime.ts";

const log = logger("box.supervisor");

const ATTACH_WAIT_MS = 10_000;
const MAX_BACKOFF_MS = 60_000;
/** A run this long resets the restart backoff, as in Docker. */
const HEALTHY_RUN_MS = 10_000;
/** How long the box's first process may take to appear once the runtime runs (to publish ports). */
const PID_WAIT_MS = 10_000;

interface Client {
  socket: Socket<Client>;
  decoder: FrameDecoder;
  /** Set when the client asked for an exec: its frames then go to that process. */
  exec?: RunningProcess;
}

export interface SuperviseOptions {
  /** Hold the box until the first client attaches (a foreground `run`), so no output is lost. */
  waitAttach: boolean;
}

export async function superviseBox(box: BoxContext, id: string, options: SuperviseOptions): Promise<number> {
  const record = box.boxes.get(id);
  if (!record) throw new A3sError("not_found", `No such box: ${id}`);
  box.boxes.update(id, { supervisorPid: process.pid, supervisorStart: processStartTime(process.pid) });
  const dir = boxDir(box.paths, id);
  const clients = new Set<Client>();
  let current: RunningProcess | undefined;
  let attached: () => void = () => {};
  const firstAttach = new Promise<void>((resolve) => {
    attached = resolve;
  });

  const socketPath = attachSocketPath(dir, id);
  rmSync(socketPath, { force: true });
  const server = Bun.listen<Client>({
    unix: socketPath,
    socket: {
      open(socket) {
        socket.data = { socket, decoder: new FrameDecoder() };
        clients.add(socket.data);
        attached();
      },
      data(socket, chunk) {
        socket.data.decoder.push(chunk, (type, payload) => {
          // A malformed or ill-timed frame from one client must never take the box's supervisor down.
          try {
            onClientFrame(socket.data, type, payload);
          } catch (err) {
            log.warn(`ignored a client frame of type ${type}`, { error: err });
          }
        });
      },
      close(socket) {
        clients.delete(socket.data);
      },
      error(socket) {
        clients.delete(socket.data);
      },
    },
  });

  /** Frames from a client go to the box's main process, or to the exec the client started. */
  function onClientFrame(client: Client, type: FrameType, payload: Uint8Array): void {
    if (type === Frame.exec) {
      startExec(client, payload);
      return;
    }
    const target = client.exec ?? current;
    if (!target) return;
    if (type === Frame.stdin) target.writeStdin(payload);
    else if (type === Frame.stdinEnd) target.endStdin();
    else if (type === Frame.resize) {
      const { cols, rows } = JSON.parse(new TextDecoder().decode(payload)) as { cols: number; rows: number };
      target.resize(cols, rows);
    } else if (type === Frame.signal) {
      const signal = new TextDecoder().decode(payload);
      if (target.signal) target.signal(signal);
      else
        runtimeFor(box, record!.spec)
          .signal(id, signal)
          .catch((err) => log.debug("forwarding a signal failed", { err }));
    }
  }

  /** An exec request (microVMs): the process's output goes to this client only. */
  function startExec(client: Client, payload: Uint8Array): void {
    const send = (type: FrameType, data: Uint8Array | string) => client.socket.write(encodeFrame(type, data));
    if (!current?.exec) {
      send(
        Frame.exit,
        JSON.stringify({ exitCode: 125, error: "this box does not accept exec through its supervisor" }),
      );
      return;
    }
    clients.delete(client); // not an attached client: the main process's output is not for it
    const request = JSON.parse(new TextDecoder().decode(payload)) as ExecRequest;
    client.exec = current.exec(request, {
      ...(request.tty ? { tty: { cols: 80, rows: 24 } } : {}),
      stdin: request.stdin === true,
      onStdout: (chunk) => send(Frame.stdout, chunk),
      onStderr: (chunk) => send(Frame.stderr, chunk),
    });
    client.exec.exited.then((exitCode) => send(Frame.exit, JSON.stringify({ exitCode })));
  }

  function broadcast(type: FrameType, payload: Uint8Array | string): void {
    const frame = encodeFrame(type, payload);
    for (const client of clients) client.socket.write(frame);
  }

  // A supervisor asked to stop (host shutdown, `kill <pid>`) stops its box first.
  const onTerm = () => {
    box.boxes.update(id, { stopRequested: true });
    runtimeFor(box, record.spec)
      .signal(id, record.spec.stopSignal)
      .catch(() => {});
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onTerm);

  let exit: ExitMessage = { exitCode: 125 };
  let rootfs: Rootfs | undefined;
  let ports: PublishedPorts | undefined;
  // The box is prepared while the client is still connecting; only running it waits for the client.
  const prepare = async () => {
    // Host ports are bound before anything runs, so a port in use fails the start cleanly (125),
    // and `ps`/`inspect` show the ports really bound (a host port of 0 becomes the one picked).
    if (record.spec.ports.length > 0) {
      ports = publishPorts(record.spec.ports);
      box.boxes.updateSpec(id, { ...record.spec, ports: ports.bound });
    }
    const image = box.images.get(record.imageId);
    if (!image)
      throw new A3sError("not_found", `the image of box ${record.name} (${record.imageId}) was removed`);
    rootfs = await assembleRootfs(box, image, dir);
    // A microVM boots the image from its erofs disk and keeps its changes on its own ext4 disk (made
    // at the first start); the host-side rootfs still answers who the user is and whether the command
    // exists, before a VM is spent on it. A --rm box is never started again: its changes go to a tmpfs.
    const annotations: Record<string, string> =
      record.spec.isolation === "microvm"
        ? {
            [ROOTFS_IMAGE_ANNOTATION]: await ensureRootfsImage(box, image),
            [IMAGE_ID_ANNOTATION]: image.id,
            [UPPER_ANNOTATION]: record.spec.autoRemove ? "tmpfs" : ensureUpperDisk(dir),
            [VOLUMES_ANNOTATION]: JSON.stringify(record.spec.volumes),
          }
        : {};
    const bundle = writeBundle(dir, record, image, rootfs.path, annotations);
    checkExecutable(rootfs.path, record.command[0] ?? "", bundle.env, record.spec.workdir);
    log.debug(`box ${id.slice(0, 12)}: ${rootfs.mode} rootfs and bundle ready at ${uptimeMs()} ms`);
  };
  const prepared = prepare();
  prepared.catch(() => {}); // awaited below; a failure must not count as unhandled meanwhile
  if (options.waitAttach) await Promise.race([firstAttach, Bun.sleep(ATTACH_WAIT_MS)]);

  try {
    await prepared;
    exit = await runWithRestarts(
      box,
      record,
      (process) => {
        current = process;
      },
      broadcast,
      ports,
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof A3sError) log.info(`box ${id} did not start: ${message}`);
    else log.error(`box ${id} failed to start`, { error: err });
    const exitCode = err instanceof A3sError && err.exitCode >= 125 ? err.exitCode : 125;
    exit = { exitCode, error: message };
    box.boxes.update(id, {
      status: "exited",
      exitCode,
      error: message,
      finishedAt: new Date().toISOString(),
    });
  } finally {
    current = undefined;
    if (ports) {
      await ports.close();
      // Back to what was asked for, so the next start picks free ports again.
      const latest = box.boxes.get(id);
      if (latest) box.boxes.updateSpec(id, { ...latest.spec, ports: record.spec.ports });
    }
    try {
      rootfs?.release();
    } catch (err) {
      log.warn("cannot release the rootfs", { error: err });
    }
  }

  // --rm: gone before the client hears the exit code, so a script's next command never sees it.
  const final = box.boxes.get(id);
  if (final?.spec.autoRemove) {
    // The client must hear the exit code even when the clean-up fails; `box rm` can finish it later.
    await removeBox(box, final, true).catch((err) => log.error(`--rm of box ${id} failed`, { error: err }));
  }
  broadcast(Frame.exit, JSON.stringify(exit));
  await drain(clients);
  server.stop(true);
  rmSync(socketPath, { force: true });
  return exit.exitCode;
}

async function runWithRestarts(
  box: BoxContext,
  record: BoxRecord,
  onProcess: (process: RunningProcess) => void,
  broadcast: (type: FrameType, payload: Uint8Array | string) => void,
  ports: PublishedPorts | undefined,
): Promise<ExitMessage> {
  const runtime = runtimeFor(box, record.spec);
  const logs = new LogWriter(logPath(box.paths, record.id));
  const dir = boxDir(box.paths, record.id);
  let restarts = record.restartCount;
  let backoff = 100;
  try {
    for (;;) {
      await runtime.delete(record.id); // state left by a crashed run would make the id "already exist"
      const started = Date.now();
      const process = runtime.run(record.id, dir, {
        ...(record.spec.tty ? { tty: { cols: 80, rows: 24 } } : {}),
        stdin: record.spec.interactive,
        onStdout(chunk) {
          logs.write("stdout", chunk);
          broadcast(Frame.stdout, chunk);
        },
        onStderr(chunk) {
          logs.write("stderr", chunk);
          broadcast(Frame.stderr, chunk);
        },
      });
      onProcess(process);
      log.debug(`box ${record.id.slice(0, 12)}: runtime started at ${uptimeMs()} ms`);
      let exited = false;
      const exit = process.exited.finally(() => {
        exited = true;
      });
      // The box counts as running once the runtime has created it and its ports are forwarded, so
      // `run -d` returns a box that exec and the ports reach.
      await process.started;
      let failure: unknown;
      if (ports) {
        try {
          await connectPorts(box, runtime, record.id, ports, () => exited);
        } catch (err) {
          failure = err;
          await runtime.signal(record.id, "KILL").catch(() => {});
        }
      }
      if (!failure) {
        box.boxes.update(record.id, {
          status: "running",
          startedAt: new Date(started).toISOString(),
          finishedAt: undefined,
          exitCode: undefined,
          error: undefined,
        });
      }
      const exitCode = await exit;
      log.debug(`box ${record.id.slice(0, 12)}: exited ${exitCode} at ${uptimeMs()} ms`);
      await ports?.detach();
      logs.flush();
      await runtime.delete(record.id);
      if (failure) throw failure;
      const finishedAt = new Date().toISOString();
      const latest = box.boxes.get(record.id) ?? record;
      if (!shouldRestart(latest, exitCode, restarts)) {
        box.boxes.update(record.id, { status: "exited", exitCode, finishedAt });
        return { exitCode };
      }
      restarts++;
      backoff = Date.now() - started > HEALTHY_RUN_MS ? 100 : Math.min(backoff * 2, MAX_BACKOFF_MS);
      box.boxes.update(record.id, { status: "restarting", exitCode, finishedAt, restartCount: restarts });
      log.info(`restarting box ${record.id} (exit ${exitCode}, restart ${restarts}) in ${backoff} ms`);
      await Bun.sleep(backoff);
      if (box.boxes.get(record.id)?.stopRequested) {
        box.boxes.update(record.id, { status: "exited" });
        return { exitCode };
      }
    }
  } finally {
    logs.close();
  }
}

/** Connects the published ports to the box's network namespace once its first process exists. */
async function connectPorts(
  box: BoxContext,
  runtime: BoxRuntime,
  id: string,
  ports: PublishedPorts,
  exited: () => boolean,
): Promise<void> {
  const deadline = Date.now() + PID_WAIT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (exited()) return;
    const pid = runtime.pid(id);
    if (pid !== undefined) {
      try {
        await ports.attach({
          netnsPid: pid,
          boxDir: boxDir(box.paths, id),
          boxId: id,
          command: [...selfCommand(), "--home", box.paths.home],
        });
      } catch (err) {
        // A box that exited meanwhile took its namespace along: nothing to forward to, no failure.
        if (exited() || !existsSync(`/proc/${pid}`)) return;
        throw err;
      }
      return;
    }
    if (Date.now() > deadline) {
      throw new A3sError(
        "runtime",
        `cannot publish ports: the box's process did not appear within ${PID_WAIT_MS / 1000} s`,
      );
    }
    await Bun.sleep(delay);
  }
}

/** Docker's restart rules; a box stopped by the user is never restarted. */
export function shouldRestart(record: BoxRecord, exitCode: number, restarts: number): boolean {
  if (record.stopRequested) return false;
  const policy = record.spec.restart;
  switch (policy.name) {
    case "always":
    case "unless-stopped":
      return true;
    case "on-failure":
      return exitCode !== 0 && (policy.maximumRetryCount === 0 || restarts < policy.maximumRetryCount);
    default:
      return false;
  }
}

/** Milliseconds since this process started: where a box's start-up time goes. */
function uptimeMs(): number {
  return Math.round(performance.now());
}

/** Gives attached clients a moment to read the exit frame before the socket closes. */
async function drain(clients: Set<Client>): Promise<void> {
  const deadline = Date.now() + 2000;
  while (clients.size > 0 && Date.now() < deadline) await Bun.sleep(5);
}
