/**
 * Docker's option syntaxes for `a3s box run`: environment, volumes, ports, limits, labels, restart
 * policies and signals. Each parser is pure apart from parseVolume (which resolves and creates the
 * host directory, as Docker does) and throws a usage error naming the bad value.
 */
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { availableParallelism, constants } from "node:os";
import { posix } from "node:path";
import { A3sError } from "../../core/errors.ts";

export { type BoxUser, parseUser } from "./users.ts";

const usage = (message: string) => new A3sError("usage", message);

// ── Environment ──────────────────────────────────────────────────────────────────────────────────

export type HostEnv = Readonly<Record<string, string | undefined>>;

const WHITESPACE = /\s/;

/** One `-e` value: `KEY=VAL` verbatim, or `KEY` taking the host's value (dropped when unset). */
function envEntry(value: string, hostEnv: HostEnv, what: string): string | undefined {
  const equals = value.indexOf("=");
  const key = equals === -1 ? value : value.slice(0, equals);
  if (key === "") throw usage(`invalid environment variable ${what}: no variable name`);
  if (WHITESPACE.test(key)) throw usage(`invalid environment variable ${what}: '${key}' contains whitespace`);
  if (equals !== -1) return value;
  const host = hostEnv[key];
  return host === undefined ? undefined : `${key}=${host}`;
}

/** `-e KEY=VAL` and `-e KEY` values, in order. */
export function parseEnvList(values: readonly string[], hostEnv: HostEnv): string[] {
  return values.flatMap((value) => envEntry(value, hostEnv, `'${value}'`) ?? []);
}

/**
 * An `--env-file`, by Docker's rules: leading whitespace is dropped, blank lines and `#` comments
 * skipped, `KEY=VAL` taken verbatim (no quote processing, trailing spaces kept), `KEY` alone taken
 * from the host's environment or dropped when unset there.
 */
export function parseEnvFile(text: string, hostEnv: HostEnv): string[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const env: string[] = [];
  lines.forEach((raw, index) => {
    const line = raw.trimStart();
    if (line === "" || line.startsWith("#")) return;
    const entry = envEntry(line, hostEnv, `on line ${index + 1} ('${line}')`);
    if (entry !== undefined) env.push(entry);
  });
  return env;
}

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const envKey = (entry: string) => {
  const equals = entry.indexOf("=");
  return equals === -1 ? entry : entry.slice(0, equals);
};

/** Replaces entries with the same key in place, appends new ones: Docker's ReplaceOrAppendEnvValues. */
function replaceOrAppend(base: string[], overrides: readonly string[]): string[] {
  const result = [...base];
  for (const entry of overrides) {
    const index = result.findIndex((existing) => envKey(existing) === envKey(entry));
    if (index === -1) result.push(entry);
    else result[index] = entry;
  }
  return result;
}

export interface EnvContext {
  hostname: string;
  /** The user's home directory (BoxUser.home); set as HOME unless the image or user set it. */
  home: string;
  /** `-t`: Docker adds TERM=xterm. */
  terminal?: boolean;
}

/**
 * The box's environment as Docker builds it: PATH (the default, unless the image sets it), HOSTNAME
 * and, with a terminal, TERM; then the image's variables, then the user's, each replacing an
 * earlier entry with the same key in place; HOME last when nothing set it.
 */
export function mergeEnv(imageEnv: readonly string[], userEnv: readonly string[], ctx: EnvContext): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${ctx.hostname}`];
  if (ctx.terminal) base.push("TERM=xterm");
  const env = replaceOrAppend(replaceOrAppend(base, imageEnv), userEnv);
  if (!env.some((entry) => envKey(entry) === "HOME")) env.push(`HOME=${ctx.home}`);
  return env;
}

// ── Volumes and ports ────────────────────────────────────────────────────────────────────────────

export type Propagation = "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave";

export interface VolumeMount {
  /** Real path on the host (symlinks resolved). */
  source: string;
  /** Absolute, normalised path inside the box. */
  destination: string;
  readOnly: boolean;
  propagation: Propagation;
}

const PROPAGATIONS = new Set<string>(["private", "rprivate", "shared", "rshared", "slave", "rslave"]);
/** Accepted for compatibility and ignored: SELinux relabelling and Docker Desktop's consistency hints. */
const IGNORED_VOLUME_OPTIONS = new Set(["z", "Z", "consistent", "cached", "delegated"]);

/**
 * `-v host:guest[:options]` with options among ro, rw, z, Z and a propagation mode. A missing host
 * directory is created (as Docker does); the source is the host path with symlinks resolved.
 */
export function parseVolume(spec: string): VolumeMount {
  const parts = spec.split(":");
  if (parts.length === 1 || parts.length > 3 || parts.some((part) => part === "")) {
    if (parts.length === 1 && spec.startsWith("/")) {
      throw usage(`invalid volume '${spec}': anonymous volumes are not supported yet; use host:guest`);
    }
    throw usage(`invalid volume '${spec}': expected host-path:box-path[:ro|rw]`);
  }
  const [host = "", guest = "", optionText] = parts;
  if (!host.startsWith("/")) {
    if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(host)) {
      throw usage(
        `invalid volume '${spec}': named volumes are not supported yet; give an absolute host path`,
      );
    }
    throw usage(`invalid volume '${spec}': the host path '${host}' must be absolute`);
  }
  if (!guest.startsWith("/"))
    throw usage(`invalid volume '${spec}': the box path '${guest}' must be absolute`);
  const destination = posix.normalize(guest).replace(/(.)\/$/, "$1");
  if (destination === "/") throw usage(`invalid volume '${spec}': the box path cannot be '/'`);
  let readOnly: boolean | undefined;
  let propagation: Propagation = "rprivate";
  for (const option of optionText === undefined ? [] : optionText.split(",")) {
    if (option === "ro" || option === "rw") {
      if (readOnly !== undefined) throw usage(`invalid volume '${spec}': more than one of ro and rw`);
      readOnly = option === "ro";
    } else if (PROPAGATIONS.has(option)) {
      propagation = option as Propagation;
    } else if (!IGNORED_VOLUME_OPTIONS.has(option)) {
      throw usage(`invalid volume '${spec}': unknown option '${option}'`);
    }
  }
  let source: string;
  try {
    if (!existsSync(host)) mkdirSync(host, { recursive: true });
    source = realpathSync(host);
  } catch (err) {
    throw new A3sError("usage", `invalid volume '${spec}': ${(err as Error).message}`, { cause: err });
  }
  return { source, destination, readOnly: readOnly ?? false, propagation };
}

export interface PortMapping {
  hostIp: string;
  /** 0: pick a free port when the box starts. */
  hostPort: number;
  containerPort: number;
  protocol: "tcp";
}

/** Where a published port listens unless an address is given: loopback only, unlike Docker's 0.0.0.0. */
export const DEFAULT_PUBLISH_IP = "127.0.0.1";

function port(text: string, spec: string, allowZero: boolean): number {
  if (/^\d+-\d+$/.test(text))
    throw usage(`invalid port mapping '${spec}': port ranges are not supported yet`);
  const value = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value <= 65535 && (value >= 1 || (allowZero && value === 0)))) {
    throw usage(`invalid port mapping '${spec}': '${text}' is not a valid port`);
  }
  return value;
}

/** `-p [ip:][hostPort:]containerPort[/tcp]`; IPv6 addresses in brackets: `[::1]:8080:80`. */
export function parsePublish(spec: string): PortMapping {
  const slash = spec.lastIndexOf("/");
  const mapping = slash === -1 ? spec : spec.slice(0, slash);
  const protocol = slash === -1 ? "tcp" : spec.slice(slash + 1).toLowerCase();
  if (protocol === "udp" || protocol === "sctp") {
    throw usage(`invalid port mapping '${spec}': ${protocol} ports are not supported (only tcp)`);
  }
  if (protocol !== "tcp") throw usage(`invalid port mapping '${spec}': unknown protocol '${protocol}'`);
  let hostIp = DEFAULT_PUBLISH_IP;
  let rest = mapping;
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(.*)$/.exec(mapping);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
  }
  const parts = rest.split(":");
  if (!v6 && parts.length === 3) {
    const ip = parts.shift()!;
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) || ip.split(".").some((octet) => Number(octet) > 255)) {
      throw usage(`invalid port mapping '${spec}': '${ip}' is not an IP address`);
    }
    hostIp = ip;
  }
  if (parts.length > 2 || (v6 && parts.length !== 2)) {
    throw usage(`invalid port mapping '${spec}': expected [ip:]host-port:box-port[/tcp]`);
  }
  const containerPort = port(parts.at(-1) ?? "", spec, false);
  const hostText = parts.length === 2 ? parts[0]! : "";
  const hostPort = hostText === "" ? 0 : port(hostText, spec, true);
  return { hostIp, hostPort, containerPort, protocol: "tcp" };
}

// ── Limits ───────────────────────────────────────────────────────────────────────────────────────

/** Docker refuses memory limits below 6 MB: the runtime itself would not fit. */
export const MIN_MEMORY = 6 * 1024 * 1024;
const UNITS: Record<string, number> = {
  "": 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** `--memory 512m|1g|1048576|64k` (binary units, case-insensitive; `mb`/`MiB` spellings too) → bytes. 0: no limit. */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!match)
    throw usage(`invalid memory size '${text}': expected a number with an optional b, k, m or g suffix`);
  const bytes = Math.floor(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
  if (bytes !== 0 && bytes < MIN_MEMORY)
    throw usage(`memory limit '${text}' is too small: the minimum is 6MB`);
  if (!Number.isSafeInteger(bytes)) throw usage(`memory limit '${text}' is too large`);
  return bytes;
}

export interface CpuLimit {
  quota: number;
  period: number;
}

export const CPU_PERIOD = 100_000;

/** `--cpus 1.5` → a CFS quota per 100 ms period; `0` means no limit (undefined). */
export function parseCpus(text: string, hostCpus: number = availableParallelism()): CpuLimit | undefined {
  const cpus = /^\d+(\.\d+)?$|^\.\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (Number.isNaN(cpus)) throw usage(`invalid --cpus value '${text}': expected a number such as 1.5`);
  if (cpus === 0) return undefined;
  if (cpus < 0.01 || cpus > hostCpus) {
    throw usage(
      `invalid --cpus value '${text}': the range is 0.01 to ${hostCpus.toFixed(2)} on this machine`,
    );
  }
  return { quota: Math.round(cpus * CPU_PERIOD), period: CPU_PERIOD };
}

/** `--pids-limit N`; 0 and -1 mean unlimited (undefined). */
export function parsePidsLimit(text: string): number | undefined {
  if (!/^-?\d+$/.test(text.trim())) throw usage(`invalid --pids-limit '${text}': expected an integer`);
  const limit = Number(text);
  if (limit < -1) throw usage(`invalid --pids-limit '${text}': use -1 for unlimited`);
  return limit <= 0 ? undefined : limit;
}

// ── Labels, restart policies, signals ───────────────────────────────────────────────────────────

/** `--label a=b` and `--label c` (empty value); later labels win. */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf("=");
    const key = equals === -1 ? value : value.slice(0, equals);
    if (key.trim() === "") throw usage(`invalid label '${value}': empty name`);
    labels[key] = equals === -1 ? "" : value.slice(equals + 1);
  }
  return labels;
}

export type RestartPolicy =
  | { name: "no" | "always" | "unless-stopped" }
  | { name: "on-failure"; maximumRetryCount: number };

/** `--restart no|always|unless-stopped|on-failure[:N]` (N = 0: retry forever). */
export function parseRestart(text: string): RestartPolicy {
  const [name = "", count, ...extra] = text.split(":");
  if (extra.length > 0) throw usage(`invalid restart policy '${text}'`);
  if (name === "" || name === "no" || name === "always" || name === "unless-stopped") {
    if (count !== undefined) {
      throw usage(`invalid restart policy '${text}': a retry count is only allowed with on-failure`);
    }
    return { name: name === "" ? "no" : name };
  }
  if (name !== "on-failure") {
    throw usage(`invalid restart policy '${text}': expected no, always, unless-stopped or on-failure[:N]`);
  }
  if (count !== undefined && !/^\d+$/.test(count)) {
    throw usage(`invalid restart policy '${text}': the retry count must be a non-negative integer`);
  }
  return { name, maximumRetryCount: count === undefined ? 0 : Number(count) };
}

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** `SIGTERM`, `term`, `9`, `RTMIN+3` → the Linux signal number. */
export function parseSignal(text: string): number {
  const bad = () => usage(`invalid signal '${text}'`);
  if (/^\d+$/.test(text)) {
    const number = Number(text);
    if (number < 1 || number > SIGRTMAX) throw bad();
    return number;
  }
  const name = text.toUpperCase().replace(/^SIG/, "");
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const offset = Number(rt[3] ?? 0) * (rt[2] === "-" ? -1 : 1);
    const number = (rt[1] === "MIN" ? SIGRTMIN : SIGRTMAX) + offset;
    if (number < SIGRTMIN || number > SIGRTMAX) throw bad();
    return number;
  }
  const number = (constants.signals as Record<string, number | undefined>)[`SIG${name}`];
  if (number === undefined) throw bad();
  return number;
}
