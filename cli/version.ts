import { Command } from "commander";
import { versionInfo } from "../src/core/version.ts";
import { createContext } from "./context.ts";

export function versionCommand(): Command {
  return new Command("version")
    .description("Show version, commit, Bun version and platform")
    .action((_options, command: Command) => {
      const { out } = createContext(command);
      const info = versionInfo();
      if (out.json) {
        out.printJson(info);
        return;
      }
      out.line(`a3s ${info.version}`);
      out.line(`  commit:   ${info.commit}`);
      out.line(`  bun:      ${info.bun}`);
      out.line(`  platform: ${info.platform}/${info.arch}`);
    });
}
