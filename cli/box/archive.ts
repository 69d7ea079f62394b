/**
 * Image archive commands with Docker's flags: save, load, import.
 */
import { resolve } from "node:path";
import { Command } from "commander";
import { A3sError } from "../../src/core/errors.ts";
import { collect } from "../options.ts";
import { openBox } from "./open.ts";

/** Ctrl-C aborts cleanly: a partial -o file is removed and nothing half-loaded is recorded. */
function interruptible(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return controller.signal;
}

export function saveCommand(): Command {
  return new Command("save")
    .description("Save one or more images to a tar archive (streamed to STDOUT by default)")
    .argument("<image...>", "images by reference or ID; a bare name saves every tag of the repository")
    .option("-o, --output <file>", "write to a file, instead of STDOUT")
    .action(async (images: string[], options: { output?: string }, command: Command) => {
      const { out, box } = await openBox(command);
      if (options.output === undefined) {
        if (process.stdout.isTTY) {
          throw new A3sError("usage", "cowardly refusing to save to a terminal. Use the -o flag or redirect");
        }
        if (out.json) throw new A3sError("usage", "--json needs -o: the archive itself goes to STDOUT");
      }
      const { saveImages } = await import("../../src/box/oci/archive.ts");
      const result = await saveImages(box, images, options.output ?? process.stdout, {
        signal: interruptible(),
      });
      if (out.json) out.printJson({ output: resolve(options.output as string), images: result.images });
    });
}

export function loadCommand(): Command {
  return new Command("load")
    .description("Load images from a tar archive (docker save, OCI layout) read from a file or STDIN")
    .option("-i, --input <file>", "read from a tar archive file, instead of STDIN")
    .option("-q, --quiet", "suppress the load output")
    .action(async (options: { input?: string; quiet?: boolean }, command: Command) => {
      const { out, box } = await openBox(command);
      if (options.input === undefined && process.stdin.isTTY) {
        throw new A3sError("usage", "requested load from stdin, but stdin is empty", {
          hint: "a3s box load -i archive.tar, or a3s box load < archive.tar",
        });
      }
      const { loadImages } = await import("../../src/box/oci/archive.ts");
      const loaded = await loadImages(box, options.input ?? process.stdin, { signal: interruptible() });
      if (out.json) {
        out.printJson({ loaded });
        return;
      }
      if (options.quiet || out.quiet) return;
      for (const image of loaded) {
        out.line(image.reference ? `Loaded image: ${image.reference}` : `Loaded image ID: ${image.id}`);
      }
    });
}

export function importCommand(): Command {
  return new Command("import")
    .description("Import the contents of a rootfs tarball to create a filesystem image")
    .argument("<file>", "tarball (plain, gzip or zstd), or - for STDIN")
    .argument("[reference]", "name[:tag] for the new image")
    .option("-m, --message <message>", "set the commit message for the imported image")
    .option(
      "-c, --change <instruction>",
      "apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL)",
      collect,
      [],
    )
    .action(
      async (
        file: string,
        reference: string | undefined,
        options: { message?: string; change: string[] },
        command: Command,
      ) => {
        const { out, box } = await openBox(command);
        if (file === "-" && process.stdin.isTTY) {
          throw new A3sError("usage", "requested import from stdin, but stdin is a terminal", {
            hint: "pipe the tarball in: cat rootfs.tar | a3s box import - name:tag",
          });
        }
        const { importRootfs } = await import("../../src/box/oci/archive.ts");
        const result = await importRootfs(box, file === "-" ? process.stdin : file, reference, {
          changes: options.change,
          signal: interruptible(),
          ...(options.message === undefined ? {} : { message: options.message }),
        });
        if (out.json) out.printJson(result);
        else out.line(result.id);
      },
    );
}
