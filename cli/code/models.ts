/** `a3s code models`: the providers a3s code knows, whether each is usable here, and their models. */
import { Command } from "commander";
import { isA3sError } from "../../src/core/errors.ts";
import { createContext } from "../context.ts";

export function modelsCommand(): Command {
  return new Command("models")
    .description("List the providers and models a3s code can use")
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = createContext(cmd);
      const [{ PRESETS, providerNames, resolveProvider }, { loadConfig }] = await Promise.all([
        import("../../src/code/providers/index.ts"),
        import("../../src/core/config.ts"),
      ]);
      const { config } = loadConfig(ctx.paths.config, ctx.env);
      const rows = [...providerNames(config)].map((name) => {
        try {
          const settings = resolveProvider(name, config, ctx.env);
          return {
            provider: name,
            type: settings.type,
            baseUrl: settings.baseUrl,
            keyEnv: settings.keyEnv ?? null,
            ready: true,
            problem: null,
            models: settings.models.map((model) => `${name}/${model}`),
          };
        } catch (err) {
          return {
            provider: name,
            type: config.code.providers[name]?.type ?? PRESETS[name]?.type ?? null,
            baseUrl: null,
            keyEnv: null,
            ready: false,
            problem: isA3sError(err) ? err.message : String(err),
            models: [] as string[],
          };
        }
      });
      if (ctx.out.json) {
        ctx.out.printJson({ default: config.code.model ?? null, providers: rows });
        return;
      }
      ctx.out.line(`default: ${config.code.model ?? "(none: run 'a3s code' to set one up)"}`);
      ctx.out.table(rows, [
        { header: "PROVIDER", value: (row) => row.provider },
        { header: "TYPE", value: (row) => row.type ?? "-" },
        { header: "STATUS", value: (row) => (row.ready ? "ready" : (row.problem ?? "-")) },
        { header: "BASE URL", value: (row) => row.baseUrl ?? "-" },
        { header: "MODELS", value: (row) => (row.models.length > 0 ? String(row.models.length) : "-") },
      ]);
      for (const row of rows) for (const model of row.models) ctx.out.line(`  ${model}`);
    });
}
