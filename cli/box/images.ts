/**
 * Image commands: pull, images, rmi, tag, image inspect|prune, login, logout, with Docker's flags.
 */
import { Command } from "commander";
import type { BoxContext } from "../../src/box/context.ts";
import type { ImageRecord } from "../../src/box/oci/images.ts";
import { familiarRepository, parseReference } from "../../src/box/oci/reference.ts";
import { A3sError } from "../../src/core/errors.ts";
import { createContext } from "../context.ts";
import { humanSize, timeAgo } from "../format.ts";
import { collect } from "../options.ts";
import { importCommand, loadCommand, saveCommand } from "./archive.ts";
import { openBox } from "./open.ts";
import { pullRenderer } from "./render-pull.ts";

/** Aborts on Ctrl-C so partial downloads are kept for the next pull to resume. */
function interruptible(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return controller.signal;
}

export function pullCommand(): Command {
  return new Command("pull")
    .description("Pull an image from a registry")
    .argument("<image>", "image reference, e.g. alpine, alpine:3.20, ghcr.io/org/app@sha256:…")
    .option(
      "--platform <os/arch[/variant]>",
      "platform to pull from a multi-platform image (default: this host)",
    )
    .option("--insecure", "allow plain HTTP to this registry")
    .action(async (image: string, options: { platform?: string; insecure?: boolean }, command: Command) => {
      const { out, box } = await openBox(command);
      const [{ pullImage }, { parsePlatform }] = await Promise.all([
        import("../../src/box/oci/pull.ts"),
        import("../../src/box/oci/manifest.ts"),
      ]);
      const renderer = pullRenderer(out);
      try {
        const result = await pullImage(box, {
          reference: image,
          ...(options.platform ? { platform: parsePlatform(options.platform) } : {}),
          insecure: options.insecure === true,
          signal: interruptible(),
          onEvent: (event) => renderer.onEvent(event),
        });
        renderer.done();
        if (out.json) {
          out.jsonLine({
            result: {
              reference: result.reference,
              digest: result.digest,
              id: result.image.id,
              platform: result.platform,
              upToDate: result.upToDate,
              downloadedBytes: result.downloadedBytes,
            },
          });
        } else {
          out.line(result.reference);
        }
      } finally {
        renderer.done();
      }
    });
}

interface ImageRow extends Record<string, unknown> {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedAt: string;
  CreatedSince: string;
  Size: string;
}

async function imageRows(box: BoxContext, images: ImageRecord[], noTrunc: boolean): Promise<ImageRow[]> {
  const { unpackedSize } = await import("../../src/box/oci/inspect.ts");
  const rows: ImageRow[] = [];
  for (const image of images) {
    const size = humanSize(unpackedSize(image, box.layers));
    const id = noTrunc ? image.id : image.id.slice(7, 19);
    const digestFor = (repository: string) =>
      image.repoDigests.find((d) => d.startsWith(`${repository}@`))?.split("@")[1] ?? "<none>";
    const base = { ID: id, CreatedAt: image.created ?? "", CreatedSince: timeAgo(image.created), Size: size };
    if (image.tags.length === 0) {
      rows.push({ Repository: "<none>", Tag: "<none>", Digest: "<none>", ...base });
      continue;
    }
    for (const tag of image.tags) {
      const ref = parseReference(tag);
      const repository = tag.slice(0, tag.lastIndexOf(":"));
      rows.push({
        Repository: familiarRepository(ref),
        Tag: ref.tag ?? "<none>",
        Digest: digestFor(repository),
        ...base,
      });
    }
  }
  return rows;
}

/** Docker's `--filter reference=pattern`, `dangling=true|false`. */
function applyFilters(images: ImageRecord[], filters: string[]): ImageRecord[] {
  let result = images;
  for (const filter of filters) {
    const [key, value = ""] = filter.split("=", 2) as [string, string?];
    if (key === "dangling") {
      const dangling = value === "true" || value === "1";
      result = result.filter((image) => (image.tags.length === 0) === dangling);
    } else if (key === "reference") {
      const pattern = globToRegExp(value);
      result = result.filter((image) =>
        image.tags.some((tag) => {
          const ref = parseReference(tag);
          const name = familiarRepository(ref);
          return pattern.test(name) || pattern.test(`${name}:${ref.tag}`);
        }),
      );
    } else {
      throw new A3sError("usage", `invalid filter '${key}'`, {
        hint: "supported filters: reference=<pattern>, dangling=true|false",
      });
    }
  }
  return result;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]");
  return new RegExp(`^${escaped}$`);
}

export function imagesCommand(name = "images"): Command {
  return new Command(name)
    .description("List images")
    .argument("[repository]", "only images of this repository[:tag]")
    .option("-a, --all", "show all images (accepted for Docker compatibility)")
    .option("-q, --quiet", "only show image IDs")
    .option("--digests", "show digests")
    .option("--no-trunc", "do not truncate output")
    .option("-f, --filter <filter>", "filter output (reference=<pattern>, dangling=true|false)", collect, [])
    .option("--format <format>", "'table', 'json' or a Go template such as '{{.Repository}}:{{.Tag}}'")
    .action(
      async (
        repository: string | undefined,
        options: { quiet?: boolean; digests?: boolean; trunc: boolean; filter: string[]; format?: string },
        command: Command,
      ) => {
        const { out, box } = await openBox(command);
        const filters = repository
          ? [...options.filter, `reference=${repository.includes(":") ? repository : `${repository}`}`]
          : options.filter;
        const images = applyFilters(box.images.list(), filters);
        const rows = await imageRows(box, images, !options.trunc);
        if (options.quiet || command.optsWithGlobals().quiet) {
          for (const id of new Set(rows.map((r) => r.ID))) out.line(id);
          return;
        }
        out.list(
          rows,
          [
            { header: "REPOSITORY", value: (r) => r.Repository },
            { header: "TAG", value: (r) => r.Tag },
            ...(options.digests ? [{ header: "DIGEST", value: (r: ImageRow) => r.Digest }] : []),
            { header: "IMAGE ID", value: (r) => r.ID },
            { header: "CREATED", value: (r) => r.CreatedSince },
            { header: "SIZE", value: (r) => r.Size },
          ],
          options.format,
        );
      },
    );
}

export function rmiCommand(name = "rmi"): Command {
  return new Command(name)
    .description("Remove one or more images")
    .argument("<image...>", "images by reference or ID")
    .option("-f, --force", "remove even if tagged in several repositories")
    .action(async (refs: string[], options: { force?: boolean }, command: Command) => {
      const { out, box } = await openBox(command);
      const { removeImage } = await import("../../src/box/oci/remove.ts");
      const events: Array<Record<string, string>> = [];
      let failure: unknown;
      for (const ref of refs) {
        try {
          for (const event of removeImage(box, ref, {
            force: options.force === true,
            inUse: (id) => box.boxes.usersOfImage(id),
          })) {
            events.push(event as Record<string, string>);
            if (!out.json)
              out.line(event.Untagged ? `Untagged: ${event.Untagged}` : `Deleted: ${event.Deleted}`);
          }
        } catch (err) {
          // Like docker rmi: report each failure, carry on with the others, fail at the end.
          if (refs.length === 1) throw err;
          failure = err;
          out.stderr.write(`error: ${(err as Error).message}\n`);
        }
      }
      if (out.json) out.printJson(events);
      if (failure) throw failure;
    });
}

export function tagCommand(name = "tag"): Command {
  return new Command(name)
    .description("Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    .argument("<source>", "existing image (reference or ID)")
    .argument("<target>", "new name[:tag]")
    .action(async (source: string, target: string, _options, command: Command) => {
      const { out, box } = await openBox(command);
      const { findImage } = await import("../../src/box/oci/remove.ts");
      const image = findImage(box, source);
      const ref = parseReference(target);
      box.images.tag(image.id, ref);
      if (out.json) out.printJson({ id: image.id, tag: target });
    });
}

export function imageInspectCommand(): Command {
  return new Command("inspect")
    .description("Display detailed information on one or more images (Docker's JSON)")
    .argument("<image...>", "images by reference or ID")
    .option("-f, --format <template>", "format each result with a Go template, e.g. '{{.Id}}'")
    .action(async (refs: string[], options: { format?: string }, command: Command) => {
      const { out, box } = await openBox(command);
      const [{ inspectImage }, { findImage }] = await Promise.all([
        import("../../src/box/oci/inspect.ts"),
        import("../../src/box/oci/remove.ts"),
      ]);
      const results = refs.map((ref) => inspectImage(findImage(box, ref), box.layers));
      if (options.format && !out.json) out.list(results, [], options.format);
      else out.printJson(results);
    });
}

export function imagePruneCommand(): Command {
  return new Command("prune")
    .description("Remove unused images")
    .option("-a, --all", "remove all images not used by a box, not just dangling ones")
    .option("-f, --force", "do not prompt for confirmation")
    .action(async (options: { all?: boolean }, command: Command) => {
      const { out, box } = await openBox(command);
      const { pruneImages } = await import("../../src/box/oci/remove.ts");
      const { deleted, reclaimed } = pruneImages(box, options.all === true, (id) =>
        box.boxes.usersOfImage(id),
      );
      if (out.json) {
        out.printJson({ ImagesDeleted: deleted, SpaceReclaimed: reclaimed });
        return;
      }
      if (deleted.length > 0) {
        out.line("Deleted Images:");
        for (const event of deleted)
          out.line(event.Untagged ? `untagged: ${event.Untagged}` : `deleted: ${event.Deleted}`);
        out.line();
      }
      out.line(`Total reclaimed space: ${humanSize(reclaimed)}`);
    });
}

async function readPassword(
  options: { password?: string; passwordStdin?: boolean },
  username: string,
): Promise<string> {
  if (options.password !== undefined) return options.password;
  if (options.passwordStdin) {
    const text = await new Response(Bun.stdin.stream()).text();
    return text.replace(/\r?\n$/, "");
  }
  if (!process.stdin.isTTY) {
    throw new A3sError("usage", "cannot prompt for a password without a terminal", {
      hint: "use --password-stdin, e.g. echo $TOKEN | a3s box login -u user --password-stdin",
    });
  }
  const { password, isCancel } = await import("@clack/prompts");
  const answer = await password({ message: `Password for ${username}` });
  if (isCancel(answer)) throw new A3sError("interrupted", "login cancelled");
  return answer;
}

export function loginCommand(): Command {
  return new Command("login")
    .description("Log in to a registry (default Docker Hub); credentials go to ~/.a3s/auth.json (0600)")
    .argument("[server]", "registry host, e.g. ghcr.io or localhost:5000")
    .option("-u, --username <name>", "username")
    .option("-p, --password <password>", "password or token (prefer --password-stdin)")
    .option("--password-stdin", "read the password from stdin")
    .option("--insecure", "allow plain HTTP to this registry")
    .action(
      async (
        server: string | undefined,
        options: { username?: string; password?: string; passwordStdin?: boolean; insecure?: boolean },
        command: Command,
      ) => {
        const { out, paths } = createContext(command);
        const { login, normaliseServer } = await import("../../src/box/oci/login.ts");
        const registry = normaliseServer(server);
        if (!options.username) {
          throw new A3sError("usage", "a username is required", { hint: "a3s box login -u <name> [server]" });
        }
        if (options.password !== undefined && options.passwordStdin) {
          throw new A3sError("usage", "--password and --password-stdin are mutually exclusive");
        }
        if (options.password !== undefined)
          out.warn("using --password on the command line is insecure; use --password-stdin");
        const password = await readPassword(options, options.username);
        await login(paths, registry, options.username, password, options.insecure === true);
        if (out.json) out.printJson({ registry, username: options.username, status: "Login Succeeded" });
        else out.line("Login Succeeded");
      },
    );
}

export function logoutCommand(): Command {
  return new Command("logout")
    .description("Log out from a registry (remove its credentials from ~/.a3s/auth.json)")
    .argument("[server]", "registry host (default Docker Hub)")
    .action(async (server: string | undefined, _options, command: Command) => {
      const { out, paths } = createContext(command);
      const { logout, normaliseServer } = await import("../../src/box/oci/login.ts");
      const registry = normaliseServer(server);
      const removed = logout(paths, registry);
      if (out.json) out.printJson({ registry, removed });
      else out.line(removed ? `Removing login credentials for ${registry}` : `Not logged in to ${registry}`);
    });
}

export function imageCommand(): Command {
  return new Command("image")
    .description("Manage images")
    .addCommand(imagesCommand("ls").alias("list"))
    .addCommand(pullCommand())
    .addCommand(imageInspectCommand())
    .addCommand(rmiCommand("rm"))
    .addCommand(tagCommand())
    .addCommand(saveCommand())
    .addCommand(loadCommand())
    .addCommand(importCommand())
    .addCommand(imagePruneCommand());
}
