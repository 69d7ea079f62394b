/**
 * The trust question `a3s code` asks in a terminal before a project's own configuration (MCP
 * servers, hooks, permission rules) takes effect; see src/code/trust.ts.
 */
import { join, relative } from "node:path";
import { projectConfiguration, TrustStore } from "../../src/code/trust.ts";
import { findProjectRoot } from "../../src/code/workspace.ts";
import { A3sError } from "../../src/core/errors.ts";
import type { CliContext } from "../context.ts";

export function trustStore(ctx: CliContext): TrustStore {
  return new TrustStore(join(ctx.paths.home, "trusted-projects.json"));
}

/** Asks once per project that configures anything; refusing ends the command (exit 7). */
export async function ensureTrusted(ctx: CliContext, cwd: string): Promise<void> {
  const root = findProjectRoot(cwd);
  const files = projectConfiguration(root);
  const store = trustStore(ctx);
  if (files.length === 0 || store.isTrusted(root)) return;
  const prompts = await import("@clack/prompts");
  prompts.note(
    files.map((file) => `${relative(root, file.path)}\n  ${file.holds.join("\n  ")}`).join("\n"),
    `${root} configures a3s code`,
  );
  const answer = await prompts.select({
    message:
      "These files can start programs and grant permissions. Only trust folders whose files you know. Trust this folder?",
    options: [
      { value: "trust", label: "Yes, trust this folder" },
      { value: "exit", label: "No, exit" },
    ],
  });
  if (answer !== "trust") {
    prompts.cancel("not trusted; nothing was started");
    throw new A3sError("permission", `${root} is not trusted`, {
      hint: "run 'a3s code' there again and trust it once you have read its .mcp.json and .a3s/settings*.json",
    });
  }
  store.trust(root);
}
