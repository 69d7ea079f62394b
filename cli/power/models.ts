/**
 * Model commands with Ollama's shapes: pull, push, list, show, rm, cp. `--json` gives what Ollama's
 * API returns (/api/pull's and /api/push's streams, /api/tags, /api/show).
 */
import { Command } from "commander";
import { A3sError } from "../../src/core/errors.ts";
import { timeAgo } from "../format.ts";
import { formatColumns } from "./columns.ts";
import { openPower } from "./open.ts";
import { humanBytes, progressRenderer } from "./render-progress.ts";

/** Aborts on Ctrl-C: a pull keeps the parts downloaded so far to resume; a push stops cleanly. */
function interruptible(): AbortSignal {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  return controller.signal;
}

type Transfer = (
  power: import("../../src/power/context.ts").PowerContext,
  options: Pick<import("../../src/power/pull.ts").PullOptions, "name" | "insecure" | "signal" | "onEvent">,
) => Promise<unknown>;

/** pull and push take the same options and render the same kind of status stream. */
function transferCommand(
  name: string,
  description: string,
  argument: string,
  load: () => Promise<Transfer>,
): Command {
  return new Command(name)
    .description(description)
    .argument("<model>", argument)
    .option("--insecure", "allow plain HTTP to the registry")
    .action(async (model: string, options: { insecure?: boolean }, command: Command) => {
      const { out, power } = await openPower(command);
      const transfer = await load();
      const renderer = progressRenderer(out);
      try {
        await transfer(power, {
          name: model,
          insecure: options.insecure === true,
          signal: interruptible(),
          onEvent: (event) => renderer.onEvent(event),
        });
      } finally {
        renderer.done();
      }
    });
}

export function pullCommand(): Command {
  return transferCommand(
    "pull",
    "Pull a model from a registry (Ollama's by default; see power.registry)",
    "model name, e.g. llama3.2, llama3.2:3b, user/model:tag, host/ns/model:tag",
    async () => (await import("../../src/power/pull.ts")).pullModel,
  );
}

export function pushCommand(): Command {
  return transferCommand(
    "push",
    "Push a model to an OCI registry (copy it to host/namespace/model:tag first)",
    "local model named as in the registry, e.g. host:5000/me/llama3.2:3b",
    async () => (await import("../../src/power/push.ts")).pushModel,
  );
}

export function listCommand(): Command {
  return new Command("list")
    .alias("ls")
    .description("List local models")
    .argument("[prefix]", "only models whose name starts with this")
    .action(async (prefix: string | undefined, _options, command: Command) => {
      const { out, power } = await openPower(command);
      const { tagsEntry } = await import("../../src/power/tags.ts");
      const models = power.store
        .list()
        .map((record) => tagsEntry(record, power.registry.host))
        .filter((entry) => prefix === undefined || entry.name.startsWith(prefix.toLowerCase()));
      if (out.json) {
        out.printJson({ models });
        return;
      }
      const rows = models.map((m) => [
        m.name,
        m.digest.slice(0, 12),
        humanBytes(m.size),
        timeAgo(m.modified_at),
      ]);
      out.stdout.write(formatColumns([["NAME", "ID", "SIZE", "MODIFIED"], ...rows]));
    });
}

const SECTIONS = ["license", "modelfile", "parameters", "system", "template"] as const;

export function showCommand(): Command {
  return new Command("show")
    .description("Show a model's details, parameters, template, license and GGUF metadata")
    .argument("<model>", "model name")
    .option("--license", "show the license")
    .option("--modelfile", "show the Modelfile")
    .option("--parameters", "show the parameters")
    .option("--system", "show the system prompt")
    .option("--template", "show the prompt template")
    .option("-v, --verbose", "show all metadata and the tensors")
    .action(
      async (
        model: string,
        options: Partial<Record<(typeof SECTIONS)[number] | "verbose", boolean>>,
        command,
      ) => {
        const { out, power } = await openPower(command);
        const chosen = SECTIONS.filter((section) => options[section] === true);
        if (chosen.length > 1) {
          throw new A3sError(
            "usage",
            "only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified",
          );
        }
        const verbose = options.verbose === true;
        const [{ showModel }, { formatShow }] = await Promise.all([
          import("../../src/power/show.ts"),
          import("./render-show.ts"),
        ]);
        const { show } = await showModel(power, model, { verbose });
        if (out.json) {
          out.printJson(show);
          return;
        }
        const section = chosen[0];
        if (section === undefined) {
          out.stdout.write(formatShow(show, verbose));
          return;
        }
        const text = show[section] ?? "";
        out.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
      },
    );
}

export function rmCommand(): Command {
  return new Command("rm")
    .description("Remove models (blobs no other model uses are deleted)")
    .argument("<model...>", "model names")
    .action(async (models: string[], _options, command: Command) => {
      const { out, power } = await openPower(command);
      const { displayName, parseModelName } = await import("../../src/power/name.ts");
      const deleted: Array<{ name: string; blobs: string[] }> = [];
      let failure: unknown;
      for (const model of models) {
        try {
          const name = parseModelName(model, power.registry.host);
          const blobs = power.store.remove(name, model);
          deleted.push({ name: displayName(name, power.registry.host), blobs });
          if (!out.json) out.line(`deleted '${model}'`);
        } catch (err) {
          // Like ollama rm: report each failure, carry on with the others, fail at the end.
          if (models.length === 1) throw err;
          failure ??= err;
          out.stderr.write(`error: ${(err as Error).message}\n`);
        }
      }
      if (out.json) out.printJson({ deleted });
      if (failure) throw failure;
    });
}

export function cpCommand(): Command {
  return new Command("cp")
    .description("Copy a model to a new name (the blobs are shared)")
    .argument("<source>", "existing model")
    .argument("<destination>", "new name")
    .action(async (source: string, destination: string, _options, command: Command) => {
      const { out, power } = await openPower(command);
      const { displayName, parseModelName } = await import("../../src/power/name.ts");
      const host = power.registry.host;
      const from = parseModelName(source, host);
      const record = power.store.copy(from, parseModelName(destination, host), source);
      if (!out.json) {
        out.line(`copied '${source}' to '${destination}'`);
        return;
      }
      out.printJson({
        source: displayName(from, host),
        destination: displayName(record.name, host),
        digest: record.digest,
      });
    });
}
