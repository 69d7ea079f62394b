/**
 * Docker's exit codes for a command that cannot run: 127 when it does not exist, 126 when it exists
 * but cannot be executed. Checked in the rootfs before the runtime starts, so the answer does not
 * depend on how each runtime words its error.
 */
import { accessSync, constants, statSync } from "node:fs";
import { posix } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { resolveInRoot } from "./users.ts";

export function checkExecutable(rootfs: string, command: string, env: readonly string[], cwd: string): void {
  const path = env.find((entry) => entry.startsWith("PATH="))?.slice(5) ?? "";
  const candidates = command.includes("/")
    ? [posix.resolve(cwd, command)]
    : path
        .split(":")
        .filter(Boolean)
        .map((dir) => posix.join(dir, command));
  let found: string | undefined;
  for (const candidate of candidates) {
    const host = resolveInRoot(rootfs, candidate);
    if (host === undefined) continue;
    try {
      if (statSync(host).isFile()) {
        found = host;
        break;
      }
      if (command.includes("/")) found = host; // a directory given by path: exists, cannot be run
    } catch {
      // dangling: keep looking
    }
  }
  if (found === undefined) {
    throw new A3sError(
      "runtime",
      `exec: "${command}": ${command.includes("/") ? "no such file or directory" : "executable file not found in $PATH"}`,
      {
        exitCode: 127,
      },
    );
  }
  try {
    if (!statSync(found).isFile()) throw new Error("not a file");
    accessSync(found, constants.X_OK);
    if ((statSync(found).mode & 0o111) === 0) throw new Error("no execute bit");
  } catch {
    throw new A3sError("runtime", `exec: "${command}": permission denied`, { exitCode: 126 });
  }
}
