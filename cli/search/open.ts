/** Opens a URL the way the desktop does: $BROWSER when set, else the platform's opener. */
import { spawn } from "node:child_process";
import { A3sError } from "../../src/core/errors.ts";

export function openInBrowser(url: string, env: NodeJS.ProcessEnv): void {
  const [command, ...args] = opener(env);
  if (command === undefined)
    throw new A3sError("not_found", "no way to open a browser here", { hint: "set $BROWSER" });
  try {
    // Detached and unreferenced: the browser outlives a3s.
    const child = spawn(command, [...args, url], { detached: true, stdio: "ignore", env });
    child.on("error", () => {});
    child.unref();
  } catch (err) {
    throw new A3sError("not_found", `cannot run ${command}`, {
      cause: err,
      hint: "set $BROWSER to your browser",
    });
  }
}

function opener(env: NodeJS.ProcessEnv): string[] {
  const browser = env.BROWSER?.split(":")[0]?.trim();
  if (browser) return browser.split(/\s+/);
  if (process.platform === "darwin") return ["open"];
  if (process.platform === "win32") return ["cmd", "/c", "start", ""];
  return ["xdg-open"];
}
