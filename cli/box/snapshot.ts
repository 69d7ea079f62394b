/** `a3s box snapshot create|restore|ls|rm|inspect|prune`. */
import { Command } from "commander";
import type { SnapshotRecord } from "../../src/box/snapshots.ts";
import { humanSize, timeAgo } from "../format.ts";
import { openBox } from "./open.ts";

async function openSnapshots(command: Command) {
  const ctx = await openBox(command);
  const { SnapshotStore } = await import("../../src/box/snapshots.ts");
  return { ...ctx, snapshots: new SnapshotStore(ctx.box.db) };
}

function describe(snapshot: SnapshotRecord): Record<string, unknown> {
  return {
    Id: snapshot.id,
    Name: snapshot.name,
    Description: snapshot.description,
    Created: snapshot.createdAt,
    Box: { Id: snapshot.boxId, Name: snapshot.boxName },
    Image: snapshot.imageId,
    ImageRef: snapshot.imageRef,
    Command: snapshot.command,
    Isolation: snapshot.spec.isolation,
    RootfsMode: snapshot.rootfsMode,
    Size: snapshot.size,
    Config: snapshot.spec,
    Labels: snapshot.labels,
  };
}

export function snapshotCommand(): Command {
  const snapshot = new Command("snapshot").description(
    "Create, restore and manage snapshots of stopped boxes",
  );

  snapshot
    .command("create")
    .description("Snapshot a stopped box's filesystem and configuration")
    .argument("<box>", "box name or ID")
    .option("--name <name>", "snapshot name (default: <box>-<id>)")
    .option("--description <text>", "a description")
    .action(async (name: string, flags: { name?: string; description?: string }, cmd: Command) => {
      const { out, box, snapshots } = await openSnapshots(cmd);
      const { createSnapshot } = await import("../../src/box/snapshots.ts");
      const created = await createSnapshot(box, snapshots, name, flags);
      if (out.json) out.printJson(describe(created));
      else out.line(created.id);
    });

  snapshot
    .command("restore")
    .description("Create a new box from a snapshot (start it with `a3s box start`)")
    .argument("<snapshot>", "snapshot name or ID")
    .option("--name <name>", "name of the new box")
    .action(async (text: string, flags: { name?: string }, cmd: Command) => {
      const { out, box, snapshots } = await openSnapshots(cmd);
      const { restoreSnapshot } = await import("../../src/box/snapshots.ts");
      const record = restoreSnapshot(box, snapshots, text, flags);
      if (out.json) out.printJson({ id: record.id, name: record.name });
      else out.line(record.id);
    });

  snapshot
    .command("ls")
    .alias("list")
    .description("List snapshots")
    .option("-q, --quiet", "only show IDs")
    .option("--format <format>", "'table', 'json' or a Go template")
    .action(async (flags: { quiet?: boolean; format?: string }, cmd: Command) => {
      const { out, snapshots } = await openSnapshots(cmd);
      const list = snapshots.list();
      if (flags.quiet) {
        for (const s of list) out.line(s.id.slice(0, 12));
        return;
      }
      const rows = list.map((s) => ({
        ID: s.id.slice(0, 12),
        Name: s.name,
        Box: s.boxName,
        Image: s.imageRef,
        CreatedSince: timeAgo(s.createdAt),
        Size: humanSize(s.size),
        Description: s.description,
      }));
      out.list(
        rows,
        [
          { header: "SNAPSHOT ID", value: (r) => r.ID },
          { header: "NAME", value: (r) => r.Name },
          { header: "BOX", value: (r) => r.Box },
          { header: "IMAGE", value: (r) => r.Image },
          { header: "CREATED", value: (r) => r.CreatedSince },
          { header: "SIZE", value: (r) => r.Size },
          { header: "DESCRIPTION", value: (r) => r.Description },
        ],
        flags.format,
      );
    });

  snapshot
    .command("inspect")
    .description("Show a snapshot as JSON")
    .argument("<snapshot...>", "snapshot names or IDs")
    .action(async (names: string[], _flags, cmd: Command) => {
      const { out, snapshots } = await openSnapshots(cmd);
      out.printJson(names.map((n) => describe(snapshots.resolve(n))));
    });

  snapshot
    .command("rm")
    .description("Remove snapshots")
    .argument("<snapshot...>", "snapshot names or IDs")
    .action(async (names: string[], _flags, cmd: Command) => {
      const { out, box, snapshots } = await openSnapshots(cmd);
      const { removeSnapshot } = await import("../../src/box/snapshots.ts");
      const removed = names.map((n) => removeSnapshot(box, snapshots, n));
      if (out.json) out.printJson(removed.map((s) => ({ id: s.id, name: s.name })));
      else for (const s of removed) out.line(s.name);
    });

  snapshot
    .command("prune")
    .description("Remove all but the newest N snapshots")
    .requiredOption("--keep <n>", "how many of the newest snapshots to keep")
    .action(async (flags: { keep: string }, cmd: Command) => {
      const { out, box, snapshots } = await openSnapshots(cmd);
      const { pruneSnapshots } = await import("../../src/box/snapshots.ts");
      const removed = pruneSnapshots(box, snapshots, Number(flags.keep));
      if (out.json) out.printJson(removed.map((s) => ({ id: s.id, name: s.name })));
      else for (const s of removed) out.line(`Deleted: ${s.name}`);
    });

  return snapshot;
}
