/**
 * A client for the OCI Distribution API (/v2/): manifests and blobs, with Docker's token
 * authentication (anonymous or with credentials), Basic auth, and plain HTTP for insecure registries.
 */
import { createHash } from "node:crypto";
import { A3sError } from "../../core/errors.ts";
import {
  type HttpBody,
  type HttpOptions,
  type HttpResponse,
  headerValue,
  httpRequest,
} from "../../core/http.ts";
import { logger } from "../../core/log.ts";
import { parseChallenges } from "./challenge.ts";
import type { Credentials } from "./credentials.ts";
import { registryHost } from "./reference.ts";

const log = logger("box.registry");

export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export interface RegistryOptions {
  /** Host as written in references (docker.io, localhost:5000) or a mirror's host. */
  registry: string;
  /** Allow plain HTTP when HTTPS is not spoken (Docker's insecure-registries). */
  insecure?: boolean;
  credentials?: Credentials;
  timeoutMs?: number;
  /**
   * The scheme, when the caller knows it: the registry is then used without probing GET /v2/ first
   * (some registries, Ollama's among them, serve models without answering /v2/ the way Docker's do).
   */
  scheme?: "https" | "http";
}

export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Uint8Array;
}

interface Token {
  value: string;
  expiresAt: number;
}

/** Docker treats loopback registries as insecure without configuration; so do we. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export class RegistryClient {
  readonly registry: string;
  private readonly host: string;
  private readonly insecure: boolean;
  private readonly credentials: Credentials | undefined;
  private readonly timeoutMs: number | undefined;
  private origin: string | undefined;
  private readonly tokens = new Map<string, Token>();
  private useBasic = false;

  constructor(options: RegistryOptions) {
    this.registry = options.registry;
    this.host = registryHost(options.registry);
    this.insecure = options.insecure === true || isLoopbackRegistry(options.registry);
    this.credentials = options.credentials;
    this.timeoutMs = options.timeoutMs;
    if (options.scheme !== undefined) this.origin = `${options.scheme}://${this.host}`;
  }

  /** GET /v2/: finds the scheme and proves the endpoint is a registry. */
  async ping(): Promise<void> {
    await this.resolveOrigin();
  }

  /**
   * Proves the credentials work, as `docker login` does: GET /v2/, answer its challenge (a token with
   * no scope, or Basic), and expect 200.
   */
  async verifyLogin(): Promise<void> {
    if (!this.credentials) throw new A3sError("usage", "no credentials to verify");
    const origin = await this.resolveOrigin();
    const first = await httpRequest(`${origin}/v2/`, this.timeoutMs ? { timeoutMs: this.timeoutMs } : {});
    await first.body.dump();
    if (first.status === 200) return;
    const challenges = parseChallenges(headerValue(first, "www-authenticate") ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer");
    let authorization: string;
    if (bearer?.params.realm) {
      const token = await this.fetchToken(bearer.params.realm, bearer.params.service, undefined);
      authorization = `Bearer ${token.value}`;
    } else if (challenges.some((c) => c.scheme === "basic")) {
      this.useBasic = true;
      authorization = this.authorization("").authorization ?? "";
    } else {
      throw new A3sError(
        "network",
        `${this.registry} answered GET /v2/ with HTTP ${first.status} and no challenge`,
      );
    }
    const second = await httpRequest(`${origin}/v2/`, { headers: { authorization } });
    await second.body.dump();
    if (second.status !== 200) {
      throw new A3sError("permission", `${this.registry}: login failed for ${this.credentials.username}`, {
        hint: "check the username and password (or access token)",
      });
    }
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const response = await this.request(repository, "pull", `/v2/${repository}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (response.status === 404) {
      await response.body.dump();
      throw new A3sError("not_found", `manifest for ${this.registry}/${repository}:${reference} not found`, {
        hint: "check the tag or digest exists in the registry",
      });
    }
    await this.expectOk(response, `fetch manifest ${repository}:${reference}`);
    const bytes = new Uint8Array(await response.body.arrayBuffer());
    const digest = sha256Digest(bytes);
    const advertised = headerValue(response, "docker-content-digest");
    if (reference.startsWith("sha256:") && reference !== digest) {
      throw new A3sError("integrity", `manifest ${reference} has digest ${digest}`, {
        hint: "the registry served different content than requested",
      });
    }
    if (advertised?.startsWith("sha256:") && advertised !== digest) {
      throw new A3sError(
        "integrity",
        `manifest digest mismatch: registry says ${advertised}, content is ${digest}`,
      );
    }
    const contentType = headerValue(response, "content-type")?.split(";")[0]?.trim();
    const declared = (() => {
      try {
        return (JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }).mediaType;
      } catch {
        throw new A3sError("integrity", `manifest ${repository}:${reference} is not valid JSON`);
      }
    })();
    return { mediaType: declared ?? contentType ?? "", digest, bytes };
  }

  /**
   * Starts a blob download; from `offset` with an HTTP Range request when resuming. The caller reads
   * the body and checks `status`: 206 means the range was honoured, 200 means start again.
   */
  async getBlob(repository: string, digest: string, offset = 0, signal?: AbortSignal): Promise<HttpResponse> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const response = await this.request(repository, "pull", `/v2/${repository}/blobs/${digest}`, {
      headers,
      ...(signal ? { signal } : {}),
    });
    if (response.status === 404) {
      await response.body.dump();
      throw new A3sError("not_found", `blob ${digest} not found in ${this.registry}/${repository}`);
    }
    if (response.status === 416 && offset > 0) {
      await response.body.dump();
      return this.getBlob(repository, digest, 0, signal);
    }
    await this.expectOk(response, `fetch blob ${digest}`);
    return response;
  }

  /**
   * Fetches bytes `start`..`end` (inclusive) of a blob with a Range request, for downloads split into
   * parts. The caller checks `status`: 206 means the range was honoured, 200 that the whole blob came.
   */
  async getBlobRange(
    repository: string,
    digest: string,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    const response = await this.request(repository, "pull", `/v2/${repository}/blobs/${digest}`, {
      headers: { range: `bytes=${start}-${end}` },
      ...(signal ? { signal } : {}),
    });
    if (response.status === 404) {
      await response.body.dump();
      throw new A3sError("not_found", `blob ${digest} not found in ${this.registry}/${repository}`);
    }
    await this.expectOk(response, `fetch blob ${digest} bytes ${start}-${end}`);
    return response;
  }

  private async resolveOrigin(): Promise<string> {
    if (this.origin !== undefined) return this.origin;
    const ping = (scheme: "https" | "http") => {
      const origin = `${scheme}://${this.host}`;
      return this.probe(origin).then(
        () => ({ origin, error: undefined }),
        (error: unknown) => {
          log.debug(`ping ${origin} failed`, { error });
          return { origin, error };
        },
      );
    };
    const schemes = this.probeOrder();
    // Loopback one scheme at a time (plain HTTP, first, answers without any TLS being set up); other
    // registries all at once, the first scheme winning whenever it answers.
    const started = isLoopbackRegistry(this.registry) ? undefined : schemes.map(ping);
    let lastError: unknown;
    for (const [index, scheme] of schemes.entries()) {
      const { origin, error } = await (started?.[index] ?? ping(scheme));
      if (error === undefined) {
        this.origin = origin;
        return origin;
      }
      lastError = error;
    }
    const tlsProblem = /SSL|TLS|certificate|WRONG_VERSION/i.test(String((lastError as Error)?.message));
    if (lastError instanceof A3sError && !this.insecure && tlsProblem) {
      throw new A3sError(lastError.code, lastError.message, {
        cause: lastError,
        hint: `if ${this.registry} serves plain HTTP, pass --insecure or add it to box.insecureRegistries`,
      });
    }
    throw lastError;
  }

  /**
   * HTTPS, and plain HTTP too for an insecure registry. Loopback tries plain HTTP first: nothing
   * leaves the machine, a registry there rarely speaks TLS, and one that does refuses the plain
   * request (HTTP 400), so HTTPS is tried next.
   */
  private probeOrder(): Array<"https" | "http"> {
    if (!this.insecure) return ["https"];
    return isLoopbackRegistry(this.registry) ? ["http", "https"] : ["https", "http"];
  }

  /** GET /v2/: a registry answers 200, or 401 when it wants credentials. */
  private async probe(origin: string): Promise<void> {
    const response = await httpRequest(`${origin}/v2/`, { retries: 1, timeoutMs: this.timeoutMs ?? 15_000 });
    await response.body.dump();
    if (response.status !== 200 && response.status !== 401) {
      throw new A3sError(
        "network",
        `${this.registry} is not a registry: GET /v2/ answered HTTP ${response.status}`,
      );
    }
  }

  /**
   * Sends a request with whatever auth the registry asks for, retrying once after a 401. Public for
   * operations without a method here (uploads): `target` is a /v2/ path or a URL the registry handed
   * out (an upload Location, maybe on another host), `actions` the token scope ("pull,push"). A body
   * is a function, so the retry after a 401 can send a stream again. Any status is returned.
   */
  async request(
    repository: string,
    actions: string,
    target: string,
    { body, ...options }: Omit<HttpOptions, "body"> & { body?: () => HttpBody } = {},
  ): Promise<HttpResponse> {
    const origin = await this.resolveOrigin();
    const url = new URL(target, origin);
    const send = (auth: Record<string, string>) =>
      httpRequest(url, {
        ...options,
        ...(body ? { body: body() } : {}),
        headers: { ...options.headers, ...auth },
        ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
      });
    // Credentials are for the registry only: an upload Location on another host (object storage)
    // carries its own authorisation in the URL.
    if (url.origin !== origin) return send({});
    const scope = `repository:${repository}:${actions}`;
    const attempt = () => send(this.authorization(scope));
    const first = await attempt();
    if (first.status !== 401) return first;
    const challenge = headerValue(first, "www-authenticate") ?? "";
    await first.body.dump();
    await this.authenticate(challenge, scope);
    const second = await attempt();
    if (second.status === 401) {
      await second.body.dump();
      throw this.unauthorized(scope);
    }
    return second;
  }

  private authorization(scope: string): Record<string, string> {
    const token = this.tokens.get(scope);
    if (token && token.expiresAt > Date.now()) return { authorization: `Bearer ${token.value}` };
    if (this.useBasic && this.credentials) {
      const basic = Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString(
        "base64",
      );
      return { authorization: `Basic ${basic}` };
    }
    return {};
  }

  private async authenticate(header: string, scope: string): Promise<void> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === "bearer");
    if (bearer?.params.realm) {
      this.tokens.set(scope, await this.fetchToken(bearer.params.realm, bearer.params.service, scope));
      return;
    }
    if (challenges.some((c) => c.scheme === "basic") && this.credentials) {
      this.useBasic = true;
      return;
    }
    throw this.unauthorized(scope);
  }

  /** Docker's token protocol: GET realm?service=…&scope=…, with Basic credentials when we have them. */
  private async fetchToken(
    realm: string,
    service: string | undefined,
    scope: string | undefined,
  ): Promise<Token> {
    const url = new URL(realm);
    if (service) url.searchParams.set("service", service);
    if (scope) url.searchParams.append("scope", scope);
    const headers: Record<string, string> = {};
    if (this.credentials) {
      const basic = Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString(
        "base64",
      );
      headers.authorization = `Basic ${basic}`;
    }
    const response = await httpRequest(url, {
      headers,
      ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
    });
    if (response.status === 401 || response.status === 403) {
      await response.body.dump();
      if (!this.credentials && scope) throw this.unauthorized(scope);
      throw new A3sError("permission", `${this.registry}: the token server refused the credentials`, {
        hint: `log in again: a3s box login ${this.registry}`,
      });
    }
    if (response.status !== 200) {
      await response.body.dump();
      throw new A3sError(
        "network",
        `${this.registry}: token server ${url.host} answered HTTP ${response.status}`,
      );
    }
    const body = (await response.body.json()) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
    };
    const value = body.token ?? body.access_token;
    if (!value) throw new A3sError("network", `${this.registry}: token server returned no token`);
    // Renew a little early so a long pull never sends an expired token.
    const lifetime = Math.max(30, body.expires_in ?? 60) * 1000;
    return { value, expiresAt: Date.now() + lifetime - 10_000 };
  }

  /** `scope` is "repository:<name>:<actions>"; the name may hold ':' (a port) — actions follow the last. */
  private unauthorized(scope: string): A3sError {
    const repository = scope.slice(scope.indexOf(":") + 1, scope.lastIndexOf(":"));
    const action = scope.endsWith("push") ? "push" : "pull";
    return this.credentials
      ? new A3sError(
          "permission",
          `${this.registry}: ${action} access to ${repository} denied for ${this.credentials.username}`,
        )
      : new A3sError(
          "permission",
          `${action} access denied for ${this.registry}/${repository}: the repository does not exist or requires login`,
          { hint: `a3s box login ${this.registry}` },
        );
  }

  /** Turns an unexpected status into an error carrying the registry's own error message. */
  private async expectOk(response: HttpResponse, what: string): Promise<void> {
    if (response.status >= 200 && response.status < 300) return;
    const text = await response.body.text();
    let detail = text.slice(0, 200);
    try {
      const parsed = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
      const first = parsed.errors?.[0];
      if (first) detail = `${first.code ?? ""}: ${first.message ?? ""}`;
    } catch {
      // not a registry error document; keep the raw text
    }
    const code = response.status === 403 ? "permission" : response.status === 404 ? "not_found" : "network";
    throw new A3sError(code, `${this.registry}: ${what}: HTTP ${response.status} ${detail}`.trim());
  }
}
