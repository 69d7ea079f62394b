/** `a3s box pool warm|ls|rm`: saved microVM guests that microVM runs restore instead of booting. */
import { Command } from "commander";
import type { WarmEntry, WarmMeta } from "../../src/box/microvm/pool.ts";
import { humanSize, timeAgo } from "../format.ts";
import { openBox } from "./open.ts";

function describe(meta: WarmMeta | WarmEntry): Record<string, unknown> {
  return {
    Key: meta.key,
    Image: meta.imageId,
    ImageRef: meta.imageRef,
    MemoryMiB: meta.memoryMiB,
    Cpus: meta.cpus,
    Accelerator: meta.accelerator,
    Kernel: meta.kernel,
    Qemu: meta.qemu,
    Size: meta.stateBytes,
    BootMs: meta.bootMs,
    SaveMs: meta.saveMs,
    Created: meta.createdAt,
    ...("status" in meta ? { Status: meta.status } : {}),
  };
}

export function poolCommand(): Command {
  const pool = new Command("pool").description("Manage warm microVM snapshots");

  pool
    .command("warm")
    .description(
      "Boot an image's microVM, park it and save it: microVM runs of the image with the same -m and --cpus restore it instead of booting",
    )
    .argument("<image>", "a pulled image")
    .option("-m, --memory <bytes>", "the VM's memory, as for run (default 256m)")
    .option("--cpus <n>", "the VM's CPUs, as for run (default 1)")
    .action(async (image: string, flags: { memory?: string; cpus?: string }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { warmPool } = await import("../../src/box/microvm/pool.ts");
      const meta = await warmPool(box, image, flags);
      if (out.json) {
        out.printJson(describe(meta));
        return;
      }
      out.line(meta.key);
      out.info(
        `Warmed ${meta.imageRef} (${meta.memoryMiB} MiB, ${meta.cpus} vCPU): booted in ${meta.bootMs} ms, saved ${humanSize(meta.stateBytes)} in ${meta.saveMs} ms`,
      );
    });

  pool
    .command("ls")
    .alias("list")
    .description("List warm snapshots")
    .option("-q, --quiet", "only show keys")
    .option("--format <format>", "'table', 'json' or a Go template")
    .action(async (flags: { quiet?: boolean; format?: string }, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { poolEntries } = await import("../../src/box/microvm/pool.ts");
      const entries = poolEntries(box);
      if (flags.quiet) {
        for (const entry of entries) out.line(entry.key);
        return;
      }
      if (out.json) {
        out.printJson(entries.map(describe));
        return;
      }
      const rows = entries.map((entry) => ({
        Key: entry.key,
        Image: entry.imageRef,
        Memory: `${entry.memoryMiB} MiB`,
        Cpus: String(entry.cpus),
        Accelerator: entry.accelerator,
        Size: humanSize(entry.stateBytes),
        CreatedSince: timeAgo(entry.createdAt),
        Status: entry.status,
      }));
      out.list(
        rows,
        [
          { header: "KEY", value: (r) => r.Key },
          { header: "IMAGE", value: (r) => r.Image },
          { header: "MEMORY", value: (r) => r.Memory },
          { header: "CPUS", value: (r) => r.Cpus },
          { header: "ACCELERATOR", value: (r) => r.Accelerator },
          { header: "SIZE", value: (r) => r.Size },
          { header: "CREATED", value: (r) => r.CreatedSince },
          { header: "STATUS", value: (r) => r.Status },
        ],
        flags.format,
      );
    });

  pool
    .command("rm")
    .description("Remove the warm snapshots of images (every -m and --cpus), or by key")
    .argument("<image...>", "image references or IDs, or snapshot keys")
    .action(async (images: string[], _flags, cmd: Command) => {
      const { out, box } = await openBox(cmd);
      const { removeFromPool } = await import("../../src/box/microvm/pool.ts");
      const removed = images.flatMap((image) => removeFromPool(box, image));
      if (out.json) out.printJson(removed.map((meta) => ({ Key: meta.key, ImageRef: meta.imageRef })));
      else for (const meta of removed) out.line(meta.key);
    });

  return pool;
}
