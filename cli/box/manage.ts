/**
 * Box management commands with Docker's flags and output: ps, logs, stop, kill, restart, rm, wait,
 * inspect, prune.
 */
import { Command } from "commander";
import type { BoxRecord } from "../../src/box/boxes.ts";
import type { BoxContext } from "../../src/box/context.ts";
import type { LogEntry } from "../../src/box/logs.ts";
import { A3sError } from "../../src/core/errors.ts";
import { humanDuration, humanSize, timeAgo } from "../format.ts";
import { collect } from "../options.ts";
import type { Output } from "../output.ts";
import { openBox } from "./open.ts";

/**
 * Runs `work` for each box, reporting failures as Docker does (one line each) and failing at the end.
 * Prints each returned line, or with --json the boxes it succeeded on as `[{"name": …}]`.
 */
async function forEachBox(
  out: Output,
  names: string[],
  work: (name: string) => Promise<string | undefined>,
  json = true,
): Promise<void> {
  let failure: unknown;
  const done: Array<{ name: string }> = [];
  for (const name of names) {
    try {
      const line = await work(name);
      done.push({ name });
      if (line !== undefined && !out.json) out.line(line);
    } catch (err) {
      if (names.length === 1) throw err;
      failure = err;
      out.stderr.write(`error: ${(err as Error).message}\n`);
    }
  }
  if (out.json && json) out.printJson(done);
  if (failure) throw failure;
}

function status(box: BoxRecord): string {
  const since = (iso: string | undefined) => (iso ? humanDuration(Date.now() - Date.parse(iso)) : "");
  switch (box.status) {
    case "running":
      return `Up ${since(box.startedAt)}`;
    case "restarting":
      return `Restarting (${box.exitCode ?? 0}) ${since(box.finishedAt)} ago`;
    case "exited":
      return `Exited (${box.exitCode ?? 0}) ${since(box.finishedAt)} ago`;
    case "created":
      return "Created";
    default:
      return box.status;
  }
}

function commandColumn(box: BoxRecord, noTrunc: boolean): string {
  const text = box.command.join(" ");
  const shown = noTrunc || text.length <= 20 ? text : `${text.slice(0, 19)}…`;
  return `"${shown}"`;
}

function portsColumn(box: BoxRecord): string {
  return box.spec.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(", ");
}

function matches(box: BoxRecord, filters: string[], images: BoxContext["images"]): boolean {
  return filters.every((filter) => {
    const [key = "", value = ""] = filter.split(/=(.*)/s);
    switch (key) {
      case "status":
        return box.status === value;
      case "name":
        return box.name.includes(value.replace(/^\//, ""));
      case "id":
        return box.id.startsWith(value);
      case "ancestor": {
        const image = images.resolve(value);
        return box.imageRef === value || (image !== undefined && image.id === box.imageId);
      }
      case "label": {
        const [labelKey = "", labelValue] = value.split(/=(.*)/s);
        return labelKey in box.labels && (labelValue === undefined || box.labels[labelKey] === labelValue);
      }
      default:
        throw new A3sError("usage", `invalid filter '${key}'`, {
          hint: "supported filters: status=, name=, id=, ancestor=, label=",
        });
    }
  });
}

export function psCommand(name = "ps"): Command {
  return new Command(name)
    .description("List boxes")
    .option("-a, --all", "show all boxes (default: running only)")
    .option("-q, --quiet", "only show IDs")
    .option("-f, --filter <key=value>", "filter: status=, name=, id=, ancestor=, label=", collect, [])
    .option("--format <format>", "'table', 'json' or a Go template such as '{{.ID}} {{.Names}}'")
    .option("-n, --last <n>", "show the n last created boxes (all states)")
    .option("-l, --latest", "show the latest created box (all states)")
    .option("--no-trunc", "do not truncate output")
    .action(
      async (
        flags: {
          all?: boolean;
          quiet?: boolean;
          filter: string[];
          format?: string;
          last?: string;
          latest?: boolean;
          trunc: boolean;
        },
        cmd: Command,
      ) => {
        const { out, box } = await openBox(cmd);
        const { isRunning, reconcileAll } = await import("../../src/box/lifecycle.ts");
        let boxes = await reconcileAll(box);
        const last = flags.latest ? 1 : flags.last !== undefined ? Number(flags.last) : undefined;
        if (last !== undefined) boxes = boxes.slice(0, last);
        else if (!flags.all) boxes = boxes.filter(isRunning);
        boxes = boxes.filter((b) => matches(b, flags.filter, box.images));
        if (flags.quiet) {
          for (const b of boxes) out.line(flags.trunc ? b.id.slice(0, 12) : b.id);
          return;
        }
        const rows = boxes.map((b) => ({
          ID: flags.trunc ? b.id.slice(0, 12) : b.id,
          Image: b.imageRef,
          Command: commandColumn(b, !flags.trunc),
          CreatedAt: b.createdAt,
          RunningFor: timeAgo(b.createdAt),
          Status: status(b),
          State: b.status,
          Ports: portsColumn(b),
          Names: b.name,
          Labels: b.labels,
        }));
        out.list(
          rows,
          [
            { header: "BOX ID", value: (r) => r.ID },
            { header: "IMAGE", value: (r) => r.Image },
            { header: "COMMAND", value: (r) => r.Command },
            { header: "CREATED", value: (r) => r.RunningFor },
            { header: "STATUS", value: (r) => r.Status },
            { header: "PORTS", value: (r) => r.Ports },
            { header: "NAMES", value: (r) => r.Names },
          ],
          flags.format,
        );
      },
    );
}

export function logsCommand(): Command {
  return new Command("logs")
    .description("Print a box's output")
    .argument("<box>", "box name or ID")
    .option("-f, --follow", "follow the output until the box stops")
    .option("-n, --tail <n>", "number of lines from the end ('all' for every line)", "all")
    .option("--since <time>", "since a timestamp (RFC 3339, Unix) or a relative time (10m, 1h30m)")
    .option("--until <time>", "until a timestamp or relative time")
    .option("-t, --timestamps", "show timestamps")
    .action(
      async (
        name: string,
        flags: { follow?: boolean; tail: string; since?: string; until?: string; timestamps?: boolean },
        cmd: Command,
      ) => {
        const { out, box } = await openBox(cmd);
        const [{ isRunning, logPath }, { followLogs, formatLogEntry, parseSince, readLogs }] =
          await Promise.all([import("../../src/box/lifecycle.ts"), import("../../src/box/logs.ts")]);
        const record = box.boxes.resolve(name);
        const tail: number | "all" = flags.tail === "all" ? "all" : Number(flags.tail);
        if (tail !== "all" && (!Number.isInteger(tail) || tail < 0)) {
          throw new A3sError("usage", `invalid --tail '${flags.tail}'`);
        }
        const options = {
          tail,
          ...(flags.since ? { since: parseSince(flags.since) } : {}),
          ...(flags.until ? { until: parseSince(flags.until) } : {}),
        };
        const print = (entry: LogEntry) => {
          if (out.json) out.jsonLine(entry);
          else
            (entry.stream === "stderr" ? out.stderr : out.stdout).write(
              formatLogEntry(entry, { timestamps: flags.timestamps === true }),
            );
        };
        const path = logPath(box.paths, record.id);
        if (!flags.follow) {
          for (const entry of readLogs(path, options)) print(entry);
          return;
        }
        const controller = new AbortController();
        process.once("SIGINT", () => controller.abort());
        const done = () => {
          const current = box.boxes.get(record.id);
          return current === undefined || !isRunning(current);
        };
        for await (const entry of followLogs(path, { ...options, signal: controller.signal, isDone: done }))
          print(entry);
      },
    );
}

export function stopCommand(): Command {
  return new Command("stop")
    .description("Stop running boxes (the stop signal, then SIGKILL after the timeout)")
    .argument("<box...>", "boxes by name or ID")
    .option("-t, --time <seconds>", "seconds to wait before killing")
    .option("-s, --signal <signal>", "signal to send instead of the box's stop signal")
    .action(async (names: string[], flags: { time?: string; signal?: string }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { stopBox } = await import("../../src/box/lifecycle.ts");
      await forEachBox(out, names, async (name) => {
        const record = box.boxes.resolve(name);
        const spec = flags.signal ? { ...record.spec, stopSignal: flags.signal } : record.spec;
        await stopBox(box, { ...record, spec }, flags.time === undefined ? undefined : Number(flags.time));
        return name;
      });
    });
}

export function killCommand(): Command {
  return new Command("kill")
    .description("Send a signal to running boxes (default SIGKILL)")
    .argument("<box...>", "boxes by name or ID")
    .option("-s, --signal <signal>", "signal to send", "KILL")
    .action(async (names: string[], flags: { signal: string }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { killBox } = await import("../../src/box/lifecycle.ts");
      await forEachBox(out, names, async (name) => {
        await killBox(box, box.boxes.resolve(name), flags.signal);
        return name;
      });
    });
}

export function restartCommand(): Command {
  return new Command("restart")
    .description("Restart boxes")
    .argument("<box...>", "boxes by name or ID")
    .option("-t, --time <seconds>", "seconds to wait for stop before killing")
    .action(async (names: string[], flags: { time?: string }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { spawnSupervisor, stopBox } = await import("../../src/box/lifecycle.ts");
      await forEachBox(out, names, async (name) => {
        const record = box.boxes.resolve(name);
        await stopBox(box, record, flags.time === undefined ? undefined : Number(flags.time));
        const stopped = box.boxes.get(record.id) as BoxRecord;
        spawnSupervisor(box, stopped, false);
        await waitUntilStarted(box, record.id);
        return name;
      });
    });
}

async function waitUntilStarted(box: BoxContext, id: string): Promise<void> {
  for (let delay = 2; delay < 5000; delay *= 2) {
    const current = box.boxes.get(id);
    if (current?.status !== "created") break;
    await Bun.sleep(delay);
  }
}

export function rmCommand(name = "rm"): Command {
  return new Command(name)
    .description("Remove boxes")
    .argument("<box...>", "boxes by name or ID")
    .option("-f, --force", "kill and remove running boxes")
    .option("-v, --volumes", "accepted for Docker compatibility (a3s creates no anonymous volumes)")
    .action(async (names: string[], flags: { force?: boolean }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { removeBox } = await import("../../src/box/lifecycle.ts");
      await forEachBox(out, names, async (name) => {
        await removeBox(box, box.boxes.resolve(name), flags.force === true);
        return name;
      });
    });
}

export function waitCommand(): Command {
  return new Command("wait")
    .description("Block until boxes stop, then print their exit codes")
    .argument("<box...>", "boxes by name or ID")
    .action(async (names: string[], _flags, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { waitForExit } = await import("../../src/box/lifecycle.ts");
      const results: Array<{ name: string; exitCode: number }> = [];
      await forEachBox(
        out,
        names,
        async (name) => {
          const record = box.boxes.resolve(name);
          const done = await waitForExit(box, record.id);
          const exitCode = done?.exitCode ?? 0;
          results.push({ name, exitCode });
          return String(exitCode);
        },
        false,
      );
      if (out.json) out.printJson(results);
    });
}

export function inspectCommand(): Command {
  return new Command("inspect")
    .description("Show low-level information on boxes (or images) as JSON")
    .argument("<name...>", "boxes (or images) by name or ID")
    .option("-f, --format <template>", "format each result with a Go template, e.g. '{{.State.Status}}'")
    .action(async (names: string[], flags: { format?: string }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const [{ boxDir, logPath, reconcile, runtimeFor }, { inspectBox }, { inspectImage }, { readVmStart }] =
        await Promise.all([
          import("../../src/box/lifecycle.ts"),
          import("../../src/box/inspect.ts"),
          import("../../src/box/oci/inspect.ts"),
          import("../../src/box/runtime/microvm.ts"),
        ]);
      const results: Record<string, unknown>[] = [];
      for (const name of names) {
        let record: BoxRecord | undefined;
        try {
          record = await reconcile(box, box.boxes.resolve(name));
        } catch (err) {
          const image = box.images.resolve(name);
          if (!(err instanceof A3sError && err.code === "not_found") || !image) {
            throw new A3sError("not_found", `No such box or image: ${name}`);
          }
          results.push(inspectImage(image, box.layers));
          continue;
        }
        const pid = record.status === "running" ? runtimeFor(box, record.spec).pid(record.id) : undefined;
        const vmStart =
          record.spec.isolation === "microvm" ? readVmStart(boxDir(box.paths, record.id)) : undefined;
        results.push(
          inspectBox(record, box.images.get(record.imageId), {
            pid,
            logPath: logPath(box.paths, record.id),
            ...(record.spec.isolation === "microvm" ? { warmStart: vmStart?.warm === true } : {}),
          }),
        );
      }
      if (flags.format && !out.json) out.list(results, [], flags.format);
      else out.printJson(results);
    });
}

export function pruneCommand(): Command {
  return new Command("prune")
    .description("Remove all stopped boxes")
    .option("-f, --force", "do not prompt for confirmation")
    .option("--filter <filter>", "label=<key>[=<value>]", collect, [])
    .action(async (flags: { filter: string[] }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { isRunning, reconcileAll, removeBox } = await import("../../src/box/lifecycle.ts");
      const deleted: string[] = [];
      for (const record of await reconcileAll(box)) {
        if (isRunning(record) || !matches(record, flags.filter, box.images)) continue;
        await removeBox(box, record, false);
        deleted.push(record.id);
      }
      if (out.json) {
        out.printJson({ BoxesDeleted: deleted });
        return;
      }
      if (deleted.length > 0) out.line(`Deleted Boxes:\n${deleted.join("\n")}\n`);
      out.line(`Total reclaimed space: ${humanSize(0)}`);
    });
}
