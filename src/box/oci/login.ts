/** `a3s box login/logout`: verify credentials against the registry, then keep them in auth.json. */
import type { Paths } from "../../core/paths.ts";
import { removeCredentials, saveCredentials } from "./credentials.ts";
import { DEFAULT_REGISTRY } from "./reference.ts";
import { RegistryClient } from "./registry.ts";

/** Accepts `ghcr.io`, `https://ghcr.io/`, `docker.io`, `index.docker.io` the way Docker does. */
export function normaliseServer(server: string | undefined): string {
  if (!server) return DEFAULT_REGISTRY;
  const host = server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  return ["index.docker.io", "registry-1.docker.io", "docker.io"].includes(host) ? DEFAULT_REGISTRY : host;
}

export async function login(
  paths: Paths,
  server: string,
  username: string,
  password: string,
  insecure: boolean,
): Promise<void> {
  const client = new RegistryClient({
    registry: server,
    insecure,
    credentials: { username, password, source: "login" },
  });
  await client.verifyLogin();
  saveCredentials(paths.auth, server, username, password);
}

export function logout(paths: Paths, server: string): boolean {
  return removeCredentials(paths.auth, server);
}
