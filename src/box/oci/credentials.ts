/**
 * Registry credentials: a3s's own store (~/.a3s/auth.json, mode 0600, Docker's config.json shape)
 * first, then ~/.docker/config.json (inline `auths`, `credHelpers` and `credsStore`), so a machine
 * already logged in with docker works unchanged.
 */
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { A3sError } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/fs.ts";
import { DEFAULT_REGISTRY } from "./reference.ts";

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for messages: "a3s", "docker config", "docker-credential-osxkeychain". */
  source: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Docker keys Hub credentials by its v1 index URL; other registries by host. */
const HUB_KEYS = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];

function keysFor(registry: string): string[] {
  return registry === DEFAULT_REGISTRY ? HUB_KEYS : [registry, `https://${registry}`, `http://${registry}`];
}

function readJson(path: string): DockerConfig | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DockerConfig;
  } catch {
    throw new A3sError("usage", `${path} is not valid JSON`, { hint: "fix or remove the file" });
  }
}

function fromAuthEntry(
  entry: NonNullable<DockerConfig["auths"]>[string],
  source: string,
): Credentials | undefined {
  if (entry.username && entry.password) return { username: entry.username, password: entry.password, source };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
}

function fromHelper(helper: string, serverUrl: string): Credentials | undefined {
  const program = `docker-credential-${helper}`;
  const result = Bun.spawnSync([program, "get"], { stdin: Buffer.from(serverUrl), stderr: "pipe" });
  if (result.exitCode !== 0) return undefined;
  try {
    const { Username, Secret } = JSON.parse(result.stdout.toString()) as {
      Username?: string;
      Secret?: string;
    };
    return Username && Secret ? { username: Username, password: Secret, source: program } : undefined;
  } catch {
    return undefined;
  }
}

export interface CredentialSources {
  /** ~/.a3s/auth.json */
  authFile: string;
  /** ~/.docker/config.json, or $DOCKER_CONFIG/config.json */
  dockerConfig?: string;
}

export function credentialSources(authFile: string, env: NodeJS.ProcessEnv): CredentialSources {
  const dockerDir = env.DOCKER_CONFIG ?? (env.HOME ? join(env.HOME, ".docker") : undefined);
  return { authFile, ...(dockerDir ? { dockerConfig: join(dockerDir, "config.json") } : {}) };
}

export function findCredentials(registry: string, sources: CredentialSources): Credentials | undefined {
  const own = readJson(sources.authFile);
  for (const key of keysFor(registry)) {
    const entry = own?.auths?.[key];
    const found = entry && fromAuthEntry(entry, "a3s");
    if (found) return found;
  }
  const docker = sources.dockerConfig ? readJson(sources.dockerConfig) : undefined;
  if (!docker) return undefined;
  for (const key of keysFor(registry)) {
    const helper = docker.credHelpers?.[key];
    if (helper) return fromHelper(helper, key);
  }
  for (const key of keysFor(registry)) {
    const entry = docker.auths?.[key];
    const found = entry && fromAuthEntry(entry, "docker config");
    if (found) return found;
  }
  return docker.credsStore ? fromHelper(docker.credsStore, keysFor(registry)[0] ?? registry) : undefined;
}

function storeKey(registry: string): string {
  return registry === DEFAULT_REGISTRY ? "https://index.docker.io/v1/" : registry;
}

export function saveCredentials(
  authFile: string,
  registry: string,
  username: string,
  password: string,
): void {
  const config = readJson(authFile) ?? {};
  config.auths = {
    ...config.auths,
    [storeKey(registry)]: { auth: Buffer.from(`${username}:${password}`).toString("base64") },
  };
  writeFileAtomic(authFile, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  chmodSync(authFile, 0o600);
}

/** Returns whether there was anything to remove. */
export function removeCredentials(authFile: string, registry: string): boolean {
  const config = readJson(authFile);
  let removed = false;
  for (const key of keysFor(registry)) {
    if (config?.auths?.[key]) {
      delete config.auths[key];
      removed = true;
    }
  }
  if (removed && config) writeFileAtomic(authFile, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  return removed;
}
