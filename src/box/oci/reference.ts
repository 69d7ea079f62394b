/**
 * Image references, parsed and normalised exactly as Docker does (distribution/reference):
 * `alpine` → docker.io/library/alpine:latest, `host:5000/ns/name:tag`, `name@sha256:…`.
 */
import { A3sError } from "../../core/errors.ts";

export const DEFAULT_REGISTRY = "docker.io";
export const DEFAULT_TAG = "latest";
const OFFICIAL_NAMESPACE = "library";
const MAX_NAME_LENGTH = 255;

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;
const DOMAIN_LABEL = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;

export interface ImageReference {
  /** Registry host as users write it: docker.io, ghcr.io, localhost:5000. */
  registry: string;
  /** Repository path within the registry: library/alpine, org/app. */
  repository: string;
  tag?: string;
  digest?: string;
}

function invalid(input: string, problem: string): A3sError {
  return new A3sError("usage", `invalid reference format '${input}': ${problem}`, {
    hint: "references look like alpine, alpine:3.20, ghcr.io/org/app:v1 or name@sha256:<64 hex>",
  });
}

/** Splits `name` into registry and path the way Docker decides whether the first part is a host. */
function splitRegistry(name: string): [string, string] {
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  const isHost =
    slash !== -1 &&
    (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase());
  let registry = isHost ? first : DEFAULT_REGISTRY;
  let path = isHost ? name.slice(slash + 1) : name;
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes("/")) path = `${OFFICIAL_NAMESPACE}/${path}`;
  return [registry, path];
}

function validateRegistry(input: string, registry: string): void {
  const [host = "", port, extra] = registry.startsWith("[") ? [registry] : registry.split(":");
  if (extra !== undefined) throw invalid(input, `bad registry host '${registry}'`);
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw invalid(input, `bad port in '${registry}'`);
  if (host.startsWith("[")) {
    if (!/^\[[0-9a-fA-F:.]+\](:\d{1,5})?$/.test(registry))
      throw invalid(input, `bad IPv6 host '${registry}'`);
    return;
  }
  if (!host.split(".").every((label) => DOMAIN_LABEL.test(label))) {
    throw invalid(input, `bad registry host '${registry}'`);
  }
}

export function parseReference(input: string): ImageReference {
  const text = input.trim();
  if (text === "") throw invalid(input, "empty reference");
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(input, `bad digest '${digest}'`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `bad tag '${tag}'`);
  }
  if (rest === "") throw invalid(input, "missing repository name");
  const [registry, repository] = splitRegistry(rest);
  validateRegistry(input, registry);
  for (const component of repository.split("/")) {
    if (component === "") throw invalid(input, "empty path component");
    if (component !== component.toLowerCase()) throw invalid(input, "repository name must be lowercase");
    if (!COMPONENT.test(component)) throw invalid(input, `bad repository component '${component}'`);
  }
  if (`${registry}/${repository}`.length > MAX_NAME_LENGTH) {
    throw invalid(input, `repository name longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** The repository's full name: docker.io/library/alpine. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/** The canonical, fully-qualified form: docker.io/library/alpine:latest (and/or @digest). */
export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** The tag a reference names, fully qualified and without any digest: docker.io/library/alpine:3.20. */
export function tagName(ref: ImageReference): string | undefined {
  return ref.tag ? `${repositoryName(ref)}:${ref.tag}` : undefined;
}

/** The short form Docker shows in `docker images`: alpine, user/app, ghcr.io/org/app. */
export function familiarRepository(ref: ImageReference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return repositoryName(ref);
  return ref.repository.startsWith(`${OFFICIAL_NAMESPACE}/`)
    ? ref.repository.slice(OFFICIAL_NAMESPACE.length + 1)
    : ref.repository;
}

export function familiarReference(ref: ImageReference): string {
  return `${familiarRepository(ref)}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

/** Docker Hub's API does not live at docker.io. */
export function registryHost(registry: string): string {
  return registry === DEFAULT_REGISTRY ? "registry-1.docker.io" : registry;
}

/** `sha256:<hex>` digests, accepted with or without the algorithm prefix for a full hex string. */
export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}
