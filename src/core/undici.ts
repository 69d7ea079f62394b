/**
 * The parts of undici the HTTP client uses, loaded from their own files. undici's index loads every
 * dispatcher, the mock agents, fetch, WebSocket, EventSource and the caches, which costs each
 * command that makes a request 3 ms more in the binary (8.5 → 5.4 ms to import, measured here).
 * The paths are undici 7's; undici.test.ts checks each still provides what is used.
 *
 * Files, not the bare package: under Bun a bare `import "undici"` resolves to Bun's built-in shim,
 * whose request() ignores `dispatcher`, so proxies and connection pools would silently not apply.
 */
import type * as Undici from "undici/index.js";
import type { Dispatcher } from "undici/index.js";

export interface UndiciParts {
  Agent: typeof Undici.Agent;
  EnvHttpProxyAgent: typeof Undici.EnvHttpProxyAgent;
  redirect: typeof Undici.interceptors.redirect;
  errors: typeof Undici.errors;
  /** undici's request(), on the dispatcher given. */
  request(
    url: URL,
    options: Omit<Dispatcher.RequestOptions, "origin" | "path"> & { dispatcher: Dispatcher },
  ): Promise<Dispatcher.ResponseData>;
}

let loading: Promise<UndiciParts> | undefined;

export function undici(): Promise<UndiciParts> {
  loading ??= load();
  return loading;
}

async function load(): Promise<UndiciParts> {
  const [dispatcher, agent, envProxyAgent, redirect, errors, api] = await Promise.all([
    import("undici/lib/dispatcher/dispatcher.js"),
    import("undici/lib/dispatcher/agent.js"),
    import("undici/lib/dispatcher/env-http-proxy-agent.js"),
    import("undici/lib/interceptor/redirect.js"),
    import("undici/lib/core/errors.js"),
    import("undici/lib/api/index.js"),
  ]);
  // As undici's index does: every dispatcher gets request(), connect()… (a proxy's CONNECT uses it).
  Object.assign((dispatcher.default as { prototype: object }).prototype, api.default);
  const requestOn = (api.default as { request: (this: Dispatcher, options: unknown) => unknown }).request;
  return {
    Agent: agent.default as typeof Undici.Agent,
    EnvHttpProxyAgent: envProxyAgent.default as typeof Undici.EnvHttpProxyAgent,
    redirect: redirect.default as typeof Undici.interceptors.redirect,
    errors: errors.default as typeof Undici.errors,
    request: (url, { dispatcher, ...options }) =>
      requestOn.call(dispatcher, {
        ...options,
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
      }) as Promise<Dispatcher.ResponseData>,
  };
}
