/** Checks that read only the environment: provider API keys, the time zone and network proxies. */
import type { Config } from "../core/config.ts";
import { type Check, reporter } from "./check.ts";

export const PROVIDER_KEY_VARIABLES = [
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
  "DEEPSEEK_API_KEY",
  "OPENROUTER_API_KEY",
];

const isSet = (env: NodeJS.ProcessEnv, name: string) => (env[name] ?? "") !== "";

/** Names the key variables that are set, never their values; providers in the config add their own. */
export function checkProviderKeys(env: NodeJS.ProcessEnv, config?: Config): Check {
  const report = reporter("code", "provider keys");
  const configured = Object.values(config?.code.providers ?? {}).flatMap((provider) =>
    provider.apiKeyEnv === undefined ? [] : [provider.apiKeyEnv],
  );
  const checked = [...new Set([...PROVIDER_KEY_VARIABLES, ...configured])];
  const set = checked.filter((name) => isSet(env, name));
  if (set.length === 0) {
    return report("warn", `no provider API key set (looked for ${checked.join(", ")})`, { set, checked });
  }
  return report("ok", `set: ${set.join(", ")}`, { set, checked });
}

/** Cron expressions are read in the configured zone, or the machine's local one. */
export function checkTimeZone(config?: Config, now: Date = new Date()): Check {
  const report = reporter("cron", "time zone");
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const configured = config?.cron.timezone;
  const details = { local, configured: configured ?? null };
  if (configured === undefined)
    return report("info", `local time zone ${local} (UTC${utcOffset(now)})`, details);
  try {
    new Intl.DateTimeFormat("en", { timeZone: configured });
  } catch {
    return report("error", `cron.timezone '${configured}' is not a known IANA time zone`, details);
  }
  return report("info", `cron.timezone ${configured} (local time zone ${local})`, details);
}

function utcOffset(now: Date): string {
  const minutes = -now.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

const PROXY_VARIABLES = ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"];

/** Proxy variables are honoured in either case (curl's convention); only their names are reported. */
export function checkProxies(env: NodeJS.ProcessEnv): Check {
  const report = reporter("search", "proxy");
  const set = Object.keys(env)
    .filter((name) => PROXY_VARIABLES.includes(name.toUpperCase()) && isSet(env, name))
    .sort();
  if (set.length === 0) return report("info", "no proxy variables set; direct connections", { set });
  return report("info", `set: ${set.join(", ")}`, { set });
}
