// undici's own files have no declarations of their own; undici.ts types what it takes from each.
declare module "undici/lib/dispatcher/dispatcher.js" {
  const Dispatcher: unknown;
  export default Dispatcher;
}
declare module "undici/lib/dispatcher/agent.js" {
  const Agent: unknown;
  export default Agent;
}
declare module "undici/lib/dispatcher/env-http-proxy-agent.js" {
  const EnvHttpProxyAgent: unknown;
  export default EnvHttpProxyAgent;
}
declare module "undici/lib/interceptor/redirect.js" {
  const redirect: unknown;
  export default redirect;
}
declare module "undici/lib/core/errors.js" {
  const errors: unknown;
  export default errors;
}
declare module "undici/lib/api/index.js" {
  const api: unknown;
  export default api;
}
