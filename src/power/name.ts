/**
 * Model names as Ollama parses them (types/model/name.go): `[host/][namespace/]model[:tag]`, read
 * from the right, so `llama3.2:3b` is `registry.ollama.ai/library/llama3.2:3b`, `user/model` is
 * `registry.ollama.ai/user/model:latest` and `host:port/ns/model:tag` names another registry.
 * Names compare without case; a3s keeps them lower-cased, as Ollama's store paths are.
 */
import { isLoopbackRegistry } from "../box/oci/registry.ts";
import { A3sError } from "../core/errors.ts";

export const OLLAMA_REGISTRY = "registry.ollama.ai";
export const DEFAULT_NAMESPACE = "library";
export const DEFAULT_TAG = "latest";
/** Ollama refuses names (and parts) longer than this. */
const MAX_LENGTH = 128;

export interface ModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

type Part = keyof ModelName;

/** Letters, digits, `_`, `-` and `.` (no `..`); namespaces take no dots, hosts also take `:port`. */
function validPart(kind: Part, text: string): boolean {
  if (text === "" || text.length > MAX_LENGTH || text.includes("..")) return false;
  const pattern =
    kind === "host" ? /^[A-Za-z0-9_.:-]+$/ : kind === "namespace" ? /^[A-Za-z0-9_-]+$/ : /^[A-Za-z0-9_.-]+$/;
  return pattern.test(text);
}

function invalid(text: string, reason: string): A3sError {
  return new A3sError("usage", `invalid model name '${text}': ${reason}`, {
    hint: "use [host/][namespace/]model[:tag], e.g. llama3.2, llama3.2:3b or user/model:tag",
  });
}

/**
 * Parses a model name and fills what is missing: the host with `defaultHost` (the configured
 * registry, registry.ollama.ai unless changed), the namespace with `library`, the tag with `latest`.
 */
export function parseModelName(text: string, defaultHost: string = OLLAMA_REGISTRY): ModelName {
  const input = text.trim().replace(/^https?:\/\//, "");
  if (input === "") throw invalid(text, "the name is empty");
  if (input.length > MAX_LENGTH) throw invalid(text, `longer than ${MAX_LENGTH} characters`);
  if (/[@+]/.test(input)) {
    throw invalid(text, "builds (+) and digests (@) are not supported; name a tag instead");
  }
  const segments = input.split("/");
  if (segments.length > 3) throw invalid(text, "too many '/' separators");
  const last = segments.pop() as string;
  // The tag is after the last ':' of the last segment; a ':' further left belongs to host:port.
  const colon = last.indexOf(":");
  const model = colon >= 0 ? last.slice(0, colon) : last;
  const tag = colon >= 0 ? last.slice(colon + 1) : DEFAULT_TAG;
  const namespace = segments.pop() ?? DEFAULT_NAMESPACE;
  const host = segments.pop() ?? defaultHost;
  const name: ModelName = { host, namespace, model, tag };
  for (const kind of ["host", "namespace", "model", "tag"] as const) {
    if (!validPart(kind, name[kind])) {
      throw invalid(text, `the ${kind} '${name[kind]}' is empty or has characters a name cannot have`);
    }
  }
  return {
    host: host.toLowerCase(),
    namespace: namespace.toLowerCase(),
    model: model.toLowerCase(),
    tag: tag.toLowerCase(),
  };
}

/** The full name: `host/namespace/model:tag`. */
export function formatName(name: ModelName): string {
  return `${name.host}/${name.namespace}/${name.model}:${name.tag}`;
}

/**
 * The shortest name that parses back to the same model, as `ollama list` shows it: the host and the
 * `library` namespace are left out when they are the defaults; the tag is always shown.
 */
export function displayName(name: ModelName, defaultHost: string = OLLAMA_REGISTRY): string {
  const tail = `${name.model}:${name.tag}`;
  if (name.host !== defaultHost.toLowerCase()) return `${name.host}/${name.namespace}/${tail}`;
  if (name.namespace !== DEFAULT_NAMESPACE) return `${name.namespace}/${tail}`;
  return tail;
}

/** `namespace/model`, the repository in the registry's /v2/ API. */
export function repositoryOf(name: ModelName): string {
  return `${name.namespace}/${name.model}`;
}

/** Path segments of the manifest under manifests/: host, namespace, model, tag. */
export function manifestSegments(name: ModelName): [string, string, string, string] {
  return [name.host, name.namespace, name.model, name.tag];
}

export interface RegistryEndpoint {
  /** Host as it appears in names: `registry.ollama.ai`, `127.0.0.1:5000`. */
  host: string;
  /** Known scheme; undefined means "try HTTPS, then plain HTTP" (loopback registries). */
  scheme: "https" | "http" | undefined;
}

/**
 * Reads `power.registry` (or A3S_POWER_REGISTRY): a host, optionally with `https://` or `http://`.
 * Plain HTTP is for loopback registries only (tests, local mirrors); they are also reached without a
 * scheme, HTTPS first, as Docker does.
 */
export function parseRegistry(value: string): RegistryEndpoint {
  const trimmed = value.trim().replace(/\/+$/, "");
  const match = /^(https?):\/\/(.*)$/i.exec(trimmed);
  const host = (match ? (match[2] as string) : trimmed).toLowerCase();
  if (!validPart("host", host)) {
    throw new A3sError("usage", `invalid model registry '${value}'`, {
      hint: "set power.registry (or A3S_POWER_REGISTRY) to a host such as registry.ollama.ai or 127.0.0.1:5000",
    });
  }
  const scheme = match ? (match[1]?.toLowerCase() as "https" | "http") : undefined;
  if (scheme === "http" && !isLoopbackRegistry(host)) {
    throw new A3sError("usage", `plain HTTP is only allowed for a loopback model registry, not ${host}`, {
      hint: `use https://${host}`,
    });
  }
  return { host, scheme: scheme ?? (isLoopbackRegistry(host) ? undefined : "https") };
}

/** The endpoint for a name's host: the configured registry's scheme applies to its own host only. */
export function endpointFor(name: ModelName, configured: RegistryEndpoint): RegistryEndpoint {
  if (name.host === configured.host) return configured;
  return { host: name.host, scheme: isLoopbackRegistry(name.host) ? undefined : "https" };
}
