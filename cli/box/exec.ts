/**
 * Commands that reach into a running box: exec, top, stats.
 */
import { availableParallelism, totalmem } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import type { BoxContext } from "../../src/box/context.ts";
import { A3sError } from "../../src/core/errors.ts";
import { humanSize } from "../format.ts";
import { collect } from "../options.ts";
import { openBox } from "./open.ts";

async function runningBox(box: BoxContext, name: string) {
  const { isRunning, reconcile } = await import("../../src/box/lifecycle.ts");
  const record = await reconcile(box, box.boxes.resolve(name));
  if (!isRunning(record)) {
    throw new A3sError("conflict", `box ${record.name} is not running`, {
      hint: `start it first: a3s box start ${record.name}`,
    });
  }
  return record;
}

export function execCommand(): Command {
  return new Command("exec")
    .description("Run a command in a running box")
    .argument("<box>", "box name or ID")
    .argument("<command...>", "command and arguments")
    .passThroughOptions()
    .option("-i, --interactive", "keep stdin open")
    .option("-t, --tty", "allocate a terminal")
    .option("-d, --detach", "run the command in the background")
    .option("-e, --env <KEY=VALUE>", "set an environment variable", collect, [])
    .option("-w, --workdir <dir>", "working directory inside the box")
    .option("-u, --user <uid[:gid]>", "user (name or uid) and group")
    .action(
      async (
        name: string,
        command: string[],
        flags: {
          interactive?: boolean;
          tty?: boolean;
          detach?: boolean;
          env: string[];
          workdir?: string;
          user?: string;
        },
        cmd: Command,
      ) => {
        const { box } = await openBox(cmd);
        const record = await runningBox(box, name);
        const [{ boxEnv }, { boxDir, runtimeFor }, { checkExecutable }, { parseEnvList }, { parseUser }] =
          await Promise.all([
            import("../../src/box/bundle.ts"),
            import("../../src/box/lifecycle.ts"),
            import("../../src/box/runtime/executable.ts"),
            import("../../src/box/runtime/options.ts"),
            import("../../src/box/runtime/users.ts"),
          ]);
        const rootfs = join(boxDir(box.paths, record.id), "rootfs");
        const user = parseUser(flags.user ?? record.spec.user, rootfs);
        const image = box.images.get(record.imageId);
        const env = [
          ...(image ? boxEnv(record, image, user.home) : record.spec.env),
          ...parseEnvList(flags.env, box.env),
        ];
        const cwd = flags.workdir ?? record.spec.workdir;
        checkExecutable(rootfs, command[0] ?? "", env, cwd);
        const tty = flags.tty === true;
        const interactive = flags.interactive === true && !flags.detach;
        const runtime = runtimeFor(box, record.spec);
        const running = runtime.exec(
          record.id,
          command,
          { env, cwd, user },
          {
            ...(tty ? { tty: { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 } } : {}),
            stdin: interactive,
            onStdout: (chunk) => process.stdout.write(chunk),
            onStderr: (chunk) => process.stderr.write(chunk),
          },
        );
        if (flags.detach) return;
        const raw = tty && interactive && process.stdin.isTTY;
        if (raw) process.stdin.setRawMode(true);
        if (interactive) {
          (async () => {
            for await (const chunk of process.stdin) running.writeStdin(chunk as Uint8Array);
            running.endStdin();
          })().catch(() => {});
        }
        try {
          process.exitCode = await running.exited;
        } finally {
          if (raw) process.stdin.setRawMode(false);
        }
      },
    );
}

export function topCommand(): Command {
  return new Command("top")
    .description("Show the processes of a box")
    .argument("<box>", "box name or ID")
    .action(async (name: string, _flags, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const record = await runningBox(box, name);
      const { describeProcesses, listProcesses } = await import("../../src/box/cgroups.ts");
      const rows = describeProcesses(listProcesses(`/a3s/${record.id}`));
      if (out.json) {
        out.printJson(rows);
        return;
      }
      out.table(rows, [
        { header: "UID", value: (r) => r.UID },
        { header: "PID", value: (r) => r.PID },
        { header: "PPID", value: (r) => r.PPID },
        { header: "C", value: (r) => r.C },
        { header: "STIME", value: (r) => r.STIME },
        { header: "TTY", value: (r) => r.TTY },
        { header: "TIME", value: (r) => r.TIME },
        { header: "CMD", value: (r) => r.CMD },
      ]);
    });
}

interface StatsRow extends Record<string, unknown> {
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  PIDs: string;
}

export function statsCommand(): Command {
  return new Command("stats")
    .description("Show resource usage of boxes")
    .argument("[box...]", "boxes (default: all running)")
    .option("--no-stream", "print one sample and exit")
    .option("-a, --all", "include stopped boxes")
    .option("--format <format>", "'table', 'json' or a Go template")
    .action(
      async (names: string[], flags: { stream: boolean; all?: boolean; format?: string }, cmd: Command) => {
        const { out, box } = await openBox(cmd);
        const [{ isRunning, reconcile, reconcileAll }, { cpuPercent, readStats }] = await Promise.all([
          import("../../src/box/lifecycle.ts"),
          import("../../src/box/cgroups.ts"),
        ]);
        const records =
          names.length > 0
            ? await Promise.all(names.map((n) => reconcile(box, box.boxes.resolve(n))))
            : (await reconcileAll(box)).filter((r) => flags.all || isRunning(r));
        const cpus = availableParallelism();
        const sample = () =>
          new Map(
            records.map((r) => {
              try {
                return [r.id, readStats(`/a3s/${r.id}`)] as const;
              } catch {
                return [r.id, undefined] as const;
              }
            }),
          );
        const render = (
          before: ReturnType<typeof sample>,
          after: ReturnType<typeof sample>,
          elapsedNanos: number,
        ) => {
          const rows: StatsRow[] = records.map((r) => {
            const a = before.get(r.id);
            const b = after.get(r.id);
            const limit = b?.memory.limit ?? totalmem();
            return {
              ID: r.id.slice(0, 12),
              Name: r.name,
              CPUPerc: a && b ? `${cpuPercent(a, b, elapsedNanos, cpus).toFixed(2)}%` : "--",
              MemUsage: b ? `${humanSize(b.memory.usage)} / ${humanSize(limit)}` : "-- / --",
              MemPerc: b ? `${((b.memory.usage / limit) * 100).toFixed(2)}%` : "--",
              PIDs: b ? String(b.pids.current) : "--",
            };
          });
          out.list(
            rows,
            [
              { header: "BOX ID", value: (r) => r.ID },
              { header: "NAME", value: (r) => r.Name },
              { header: "CPU %", value: (r) => r.CPUPerc },
              { header: "MEM USAGE / LIMIT", value: (r) => r.MemUsage },
              { header: "MEM %", value: (r) => r.MemPerc },
              { header: "PIDS", value: (r) => r.PIDs },
            ],
            flags.format,
          );
        };
        const interval = 500;
        let before = sample();
        for (;;) {
          const started = process.hrtime.bigint();
          await Bun.sleep(interval);
          const after = sample();
          if (flags.stream && out.interactive) out.stdout.write("\x1b[2J\x1b[H");
          render(before, after, Number(process.hrtime.bigint() - started));
          if (!flags.stream || out.json) return;
          before = after;
        }
      },
    );
}

/** `box:path` → [box, path]; a host path (no colon, or an absolute/relative path) → undefined. */
function splitBoxPath(text: string): [string, string] | undefined {
  if (text.startsWith("/") || text.startsWith(".")) return undefined;
  const colon = text.indexOf(":");
  return colon > 0 ? [text.slice(0, colon), text.slice(colon + 1)] : undefined;
}

export function cpCommand(): Command {
  return new Command("cp")
    .description("Copy files between a box and the host (BOX:PATH HOSTPATH or HOSTPATH BOX:PATH)")
    .argument("<source>", "BOX:PATH or a host path")
    .argument("<destination>", "BOX:PATH or a host path")
    .action(async (source: string, destination: string, _flags, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const from = splitBoxPath(source);
      const to = splitBoxPath(destination);
      if ((from === undefined) === (to === undefined)) {
        throw new A3sError("usage", "copying between boxes, or between host paths, is not supported", {
          hint: "one side must be BOX:PATH, e.g. a3s box cp web:/etc/hosts ./hosts",
        });
      }
      const [name = ""] = from ?? to ?? [];
      const [{ boxDir, isRunning, reconcile }, { assembleRootfs }, { copyFromBox, copyToBox }] =
        await Promise.all([
          import("../../src/box/lifecycle.ts"),
          import("../../src/box/oci/rootfs.ts"),
          import("../../src/box/copy.ts"),
        ]);
      const record = await reconcile(box, box.boxes.resolve(name));
      const dir = boxDir(box.paths, record.id);
      const image = box.images.get(record.imageId);
      // A stopped box's filesystem is mounted just for the copy (overlay: changes land in its upper dir).
      const mounted = isRunning(record) || !image ? undefined : await assembleRootfs(box, image, dir);
      try {
        const rootfs = join(dir, "rootfs");
        if (from) copyFromBox(rootfs, from[1], destination, record.name);
        else if (to) await copyToBox(rootfs, source, to[1], box.paths.tmp);
      } finally {
        mounted?.release();
      }
      if (out.json) out.printJson({ source, destination });
    });
}
