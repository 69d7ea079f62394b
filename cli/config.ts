import { Command } from "commander";
import { createContext } from "./context.ts";

function show(value: unknown): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function configCommand(): Command {
  const config = new Command("config").description("Read and write the configuration (~/.a3s/config.json)");

  config
    .command("get")
    .description("Print the effective value of a key")
    .argument("<key>", "dotted key, e.g. box.registryMirrors")
    .action(async (key: string, _options, command: Command) => {
      const { out, paths, env } = createContext(command);
      const { getConfigValue, loadConfig } = await import("../src/core/config.ts");
      const loaded = loadConfig(paths.config, env);
      const value = getConfigValue(loaded, key);
      if (out.json)
        out.printJson({ key, value: value ?? null, source: loaded.sources.get(key) ?? "default" });
      else out.line(show(value));
    });

  config
    .command("set")
    .description("Set a key in the config file (lists are comma-separated or JSON)")
    .argument("<key>", "dotted key")
    .argument("<value>", "new value")
    .action(async (key: string, value: string, _options, command: Command) => {
      const { out, paths, env } = createContext(command);
      const { getConfigValue, loadConfig, setConfigValue } = await import("../src/core/config.ts");
      setConfigValue(paths.config, key, value);
      const stored = getConfigValue(loadConfig(paths.config, {}), key);
      if (out.json) out.printJson({ key, value: stored ?? null });
      const shadowed = loadConfig(paths.config, env).sources.get(key) === "env";
      if (shadowed) out.warn(`${key} is overridden by an environment variable in this shell`);
    });

  config
    .command("unset")
    .description("Remove a key from the config file (back to its default)")
    .argument("<key>", "dotted key")
    .action(async (key: string, _options, command: Command) => {
      const { out, paths } = createContext(command);
      const { setConfigValue } = await import("../src/core/config.ts");
      setConfigValue(paths.config, key, undefined);
      if (out.json) out.printJson({ key, value: null });
    });

  config
    .command("list")
    .alias("ls")
    .description("List every key with its effective value and where it comes from")
    .action(async (_options, command: Command) => {
      const { out, paths, env } = createContext(command);
      const { listConfig, loadConfig } = await import("../src/core/config.ts");
      const entries = listConfig(loadConfig(paths.config, env));
      if (out.json) {
        out.printJson(entries.map((e) => ({ ...e, value: e.value ?? null })));
        return;
      }
      out.table(entries, [
        { header: "KEY", value: (e) => e.key },
        { header: "VALUE", value: (e) => show(e.value) },
        { header: "SOURCE", value: (e) => e.source },
      ]);
    });

  config
    .command("path")
    .description("Print the path of the config file")
    .action((_options, command: Command) => {
      const { out, paths } = createContext(command);
      if (out.json) out.printJson({ path: paths.config });
      else out.line(paths.config);
    });

  return config;
}
