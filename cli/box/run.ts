/**
 * run, create, start and the hidden supervise and forward-helper commands: Docker's flags, Docker's
 * exit codes (125 for a3s's own failures, 126/127 for commands that cannot run, else the command's own).
 */
import { Command } from "commander";
import type { ExitMessage } from "../../src/box/attach.ts";
import type { BoxRecord } from "../../src/box/boxes.ts";
import type { BoxContext } from "../../src/box/context.ts";
import type { RunOptions } from "../../src/box/create.ts";
import { A3sError } from "../../src/core/errors.ts";
import { collect } from "../options.ts";
import type { Output } from "../output.ts";
import { openBox } from "./open.ts";
import { pullRenderer } from "./render-pull.ts";

/** The options `run` and `create` share, as Docker spells them. */
function withCreateOptions(command: Command): Command {
  return command
    .argument("<image>", "image to create the box from")
    .argument("[command...]", "command and arguments (default: the image's entrypoint and CMD)")
    .passThroughOptions()
    .option("--name <name>", "assign a name to the box")
    .option("-e, --env <KEY=VALUE>", "set an environment variable", collect, [])
    .option("--env-file <file>", "read environment variables from a file", collect, [])
    .option("-v, --volume <host:box[:ro]>", "bind-mount a host directory", collect, [])
    .option(
      "-p, --publish <[ip:]host:box>",
      "publish a box port on the host (loopback by default)",
      collect,
      [],
    )
    .option("--network <mode>", "none (loopback only, the default) or host (share the host's network)")
    .option("-w, --workdir <dir>", "working directory inside the box")
    .option("-u, --user <uid[:gid]>", "user (name or uid) and group to run as")
    .option("--entrypoint <cmd>", "override the image's entrypoint")
    .option("--hostname <name>", "box host name")
    .option("-m, --memory <bytes>", "memory limit (e.g. 512m, 1g)")
    .option("--cpus <n>", "number of CPUs (e.g. 1.5)")
    .option("--pids-limit <n>", "maximum number of processes (-1: unlimited)")
    .option("--read-only", "mount the root filesystem read-only")
    .option("--runtime <name>", "OCI runtime: crun, runc or runsc")
    .option("--isolation <kind>", "sandbox or microvm")
    .option("-l, --label <key=value>", "set metadata on the box", collect, [])
    .option("--pull <policy>", "pull the image: missing, always or never", "missing")
    .option("--restart <policy>", "restart policy: no, on-failure[:N], always, unless-stopped", "no")
    .option("--rm", "remove the box when it exits")
    .option("-i, --interactive", "keep stdin open")
    .option("-t, --tty", "allocate a terminal")
    .option("--stop-signal <signal>", "signal to stop the box")
    .option("--stop-timeout <seconds>", "seconds to wait before killing on stop");
}

/** What commander hands the action: RunOptions as flags, with switches optional and --pull unchecked. */
type Switches = "readOnly" | "rm" | "interactive" | "tty";
type ParsedRunFlags = Omit<RunOptions, "image" | "command" | "pull" | Switches> &
  Partial<Pick<RunOptions, Switches>> & { pull: string; detach?: boolean };

function toRunOptions(image: string, command: string[], flags: ParsedRunFlags): RunOptions {
  if (!["missing", "always", "never"].includes(flags.pull)) {
    throw new A3sError("usage", `invalid --pull policy '${flags.pull}'`, {
      hint: "use missing, always or never",
    });
  }
  const { detach: _detach, pull, readOnly, rm, interactive, tty, ...rest } = flags;
  return {
    ...rest,
    image,
    command,
    pull: pull as RunOptions["pull"],
    readOnly: readOnly === true,
    rm: rm === true,
    interactive: interactive === true,
    tty: tty === true,
  };
}

/** Every failure of a3s itself in run/create is Docker's 125; the error keeps its own code. */
async function asDockerError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof A3sError && err.exitCode < 125) {
      throw new A3sError(err.code, err.message, {
        ...(err.hint ? { hint: err.hint } : {}),
        exitCode: 125,
        cause: err,
      });
    }
    throw err;
  }
}

async function create(box: BoxContext, out: Output, image: string, command: string[], flags: ParsedRunFlags) {
  const { createFromOptions } = await import("../../src/box/create.ts");
  const renderer = pullRenderer(out);
  try {
    return await createFromOptions(box, toRunOptions(image, command, flags), renderer.onEvent, (message) =>
      out.info(message),
    );
  } finally {
    renderer.done();
  }
}

export function runCommand(): Command {
  return withCreateOptions(new Command("run").description("Create and start a box from an image"))
    .option("-d, --detach", "run in the background and print the box ID")
    .action(async (image: string, command: string[], flags: ParsedRunFlags, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const record = await asDockerError(() => create(box, out, image, command, flags));
      if (flags.detach) {
        await asDockerError(() => startDetached(box, record));
        if (out.json) out.printJson({ id: record.id, name: record.name });
        else out.line(record.id);
        return;
      }
      const { spawnSupervisor } = await import("../../src/box/lifecycle.ts");
      spawnSupervisor(box, record, true);
      const exit = await attach(box, record, flags.interactive === true, flags.tty === true);
      finish(out, exit);
    });
}

export function createCommand(): Command {
  return withCreateOptions(new Command("create").description("Create a box without starting it")).action(
    async (image: string, command: string[], flags: ParsedRunFlags, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const record = await asDockerError(() => create(box, out, image, command, flags));
      if (out.json) out.printJson({ id: record.id, name: record.name });
      else out.line(record.id);
    },
  );
}

export function startCommand(): Command {
  return new Command("start")
    .description("Start one or more stopped boxes")
    .argument("<box...>", "boxes by name or ID")
    .option("-a, --attach", "attach stdout/stderr and forward signals")
    .option("-i, --interactive", "attach stdin")
    .action(async (names: string[], flags: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      if (flags.attach && names.length > 1)
        throw new A3sError("usage", "you cannot start and attach multiple boxes at once");
      const { isRunning, reconcile, spawnSupervisor } = await import("../../src/box/lifecycle.ts");
      for (const name of names) {
        const record = await reconcile(box, box.boxes.resolve(name));
        if (isRunning(record)) {
          if (!out.json) out.line(name);
          continue;
        }
        if (flags.attach) {
          spawnSupervisor(box, record, true);
          finish(out, await attach(box, record, flags.interactive === true, record.spec.tty));
          return;
        }
        await startDetached(box, record);
        if (!out.json) out.line(name);
      }
      if (out.json) out.printJson(names.map((name) => ({ name, status: box.boxes.resolve(name).status })));
    });
}

export function superviseCommand(): Command {
  return new Command("supervise")
    .description("Run a box's supervisor (started by run/start; not for direct use)")
    .argument("<id>", "box ID")
    .option("--wait-attach", "hold the box until a client attaches")
    .action(async (id: string, flags: { waitAttach?: boolean }, cmd: Command) => {
      const { box } = await openBox(cmd);
      const [{ superviseBox }, { settleForLongRun }] = await Promise.all([
        import("../../src/box/supervisor.ts"),
        import("../../src/core/jit.ts"),
      ]);
      settleForLongRun();
      await superviseBox(box, id, { waitAttach: flags.waitAttach === true });
    });
}

export function forwardHelperCommand(): Command {
  return new Command("forward-helper")
    .description("Forward published ports inside a box's network namespace (started by the supervisor)")
    .argument("<socket>", "Unix socket to accept forwarded connections on")
    .action(async (socket: string) => {
      const [{ runForwardHelper }, { settleForLongRun }] = await Promise.all([
        import("../../src/box/ports.ts"),
        import("../../src/core/jit.ts"),
      ]);
      settleForLongRun();
      await runForwardHelper(socket);
    });
}

/** Starts the supervisor and returns once the box runs, or fails with the reason it did not start. */
async function startDetached(box: BoxContext, record: BoxRecord): Promise<void> {
  const [{ spawnSupervisor, supervisorLogTail }, { isSameProcessAlive }] = await Promise.all([
    import("../../src/box/lifecycle.ts"),
    import("../../src/box/process.ts"),
  ]);
  const pid = spawnSupervisor(box, record, false);
  for (const delay = 2; ; ) {
    const current = box.boxes.get(record.id);
    if (!current) return; // --rm and already gone
    if (current.status !== "created") {
      if (current.status === "exited" && current.error) {
        throw new A3sError("runtime", current.error, { exitCode: current.exitCode ?? 125 });
      }
      return;
    }
    if (!isSameProcessAlive(pid, undefined)) {
      const tail = supervisorLogTail(box.paths, record.id);
      throw new A3sError(
        "runtime",
        `the box supervisor exited before starting the box${tail ? `: ${tail}` : ""}`,
      );
    }
    await Bun.sleep(delay);
  }
}

/** Streams the box's output here and our stdin there until the box exits. */
async function attach(
  box: BoxContext,
  record: BoxRecord,
  interactive: boolean,
  tty: boolean,
): Promise<ExitMessage> {
  const [
    { attachSocketPath, connectAttach, Frame },
    { boxDir, isRunning, supervisorLogTail, waitForExit },
    { isSameProcessAlive },
  ] = await Promise.all([
    import("../../src/box/attach.ts"),
    import("../../src/box/lifecycle.ts"),
    import("../../src/box/process.ts"),
  ]);
  const socket = attachSocketPath(boxDir(box.paths, record.id), record.id);
  const supervisor = () => {
    const current = box.boxes.get(record.id);
    return current !== undefined && isSameProcessAlive(current.supervisorPid, undefined);
  };
  let client: Awaited<ReturnType<typeof connectAttach>>;
  try {
    client = await connectAttach(
      socket,
      { onStdout: (chunk) => process.stdout.write(chunk), onStderr: (chunk) => process.stderr.write(chunk) },
      supervisor,
    );
  } catch (err) {
    const tail = supervisorLogTail(box.paths, record.id);
    throw new A3sError("runtime", `${(err as Error).message}${tail ? `\n${tail}` : ""}`, { exitCode: 125 });
  }
  const rawTerminal = tty && interactive && process.stdin.isTTY;
  if (tty && process.stdout.isTTY) {
    const resize = () => {
      const { columns: cols, rows } = process.stdout;
      if (cols > 0 && rows > 0) client.send(Frame.resize, JSON.stringify({ cols, rows }));
    };
    resize();
    process.stdout.on("resize", resize);
  }
  if (!tty) {
    // Like docker's --sig-proxy: signals to this process go to the box.
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.on(signal, () => client.send(Frame.signal, signal));
    }
  }
  if (interactive) {
    if (rawTerminal) process.stdin.setRawMode(true);
    (async () => {
      for await (const chunk of process.stdin) client.send(Frame.stdin, chunk as Uint8Array);
      client.send(Frame.stdinEnd);
    })().catch(() => {});
  }
  try {
    return await client.exit;
  } catch (err) {
    const after = await waitForExit(box, record.id, 2000);
    if (after?.exitCode !== undefined && !isRunning(after)) return { exitCode: after.exitCode };
    throw new A3sError("runtime", (err as Error).message, { exitCode: 125 });
  } finally {
    if (rawTerminal) process.stdin.setRawMode(false);
    client.close();
  }
}

function finish(out: Output, exit: ExitMessage): void {
  if (exit.error) out.stderr.write(`error: ${exit.error}\n`);
  process.exitCode = exit.exitCode;
}
