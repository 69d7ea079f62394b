/** `a3s power create <model> -f Modelfile`, printing Ollama's create status lines (JSON lines with --json). */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Command } from "commander";
import { fromSystemError } from "../../src/core/errors.ts";
import { openPower } from "./open.ts";

export function createCommand(): Command {
  return new Command("create")
    .description(
      "Create a model from a Modelfile (FROM a GGUF file or a model; TEMPLATE, SYSTEM, PARAMETER…)",
    )
    .argument("<model>", "name of the new model")
    .option("-f, --file <path>", "the Modelfile", "Modelfile")
    .action(async (model: string, options: { file: string }, command: Command) => {
      const { out, power } = await openPower(command);
      const path = resolve(options.file);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        throw fromSystemError(err, `cannot read ${options.file}`);
      }
      const [{ createModel }, { parseModelfile }] = await Promise.all([
        import("../../src/power/create.ts"),
        import("../../src/power/modelfile.ts"),
      ]);
      const modelfile = parseModelfile(text);
      for (const name of modelfile.deprecated) out.warn(`parameter ${name} is deprecated and ignored`);
      await createModel(power, {
        name: model,
        modelfile,
        baseDir: dirname(path),
        onEvent: (event) => (out.json ? out.jsonLine(event) : out.stderr.write(`${event.status}\n`)),
      });
    });
}
