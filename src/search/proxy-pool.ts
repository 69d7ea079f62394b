/**
 * The proxy pool: proxies from the config or --proxy, handed out round-robin; one that fails is
 * benched for a while (longer after each consecutive failure) and tried again afterwards. Each proxy
 * gets one undici dispatcher: ProxyAgent for http(s) proxies, an Agent with a SOCKS5 connector for
 * socks5 ones.
 */
import type { Dispatcher } from "undici/index.js";
import { A3sError } from "../core/errors.ts";
import { parseSocksUrl, socksConnector } from "./socks.ts";

export const BENCH_MS = 30_000;
const MAX_BENCH_MS = 10 * 60_000;

export interface ProxyEntry {
  url: string;
  kind: "http" | "socks5";
  failures: number;
  benchedUntil: number;
  uses: number;
}

export interface ProxyStatus {
  url: string;
  healthy: boolean;
  failures: number;
  uses: number;
}

export function parseProxyUrl(raw: string): { url: URL; kind: ProxyEntry["kind"] } {
  let url: URL;
  try {
    url = new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch {
    throw new A3sError("usage", `invalid proxy URL '${raw}'`, {
      hint: "use http://host:port, https://host:port or socks5://[user:pass@]host:port",
    });
  }
  if (url.protocol === "http:" || url.protocol === "https:") return { url, kind: "http" };
  if (url.protocol === "socks5:" || url.protocol === "socks5h:") return { url, kind: "socks5" };
  throw new A3sError("usage", `unsupported proxy scheme '${url.protocol.replace(/:$/, "")}' in '${raw}'`, {
    hint: "supported: http, https, socks5",
  });
}

export class ProxyPool {
  private readonly entries: ProxyEntry[];
  private cursor = 0;
  private readonly dispatchers = new Map<string, Dispatcher>();

  constructor(
    urls: readonly string[],
    private readonly options: { benchMs?: number; now?: () => number; connectTimeoutMs?: number } = {},
  ) {
    this.entries = [...new Set(urls)].map((url) => ({
      url,
      kind: parseProxyUrl(url).kind,
      failures: 0,
      benchedUntil: 0,
      uses: 0,
    }));
  }

  get size(): number {
    return this.entries.length;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /**
   * The next healthy proxy in turn. When every proxy is benched the one due back soonest is used:
   * going direct would silently bypass the user's choice of proxies.
   */
  next(): ProxyEntry | undefined {
    if (this.entries.length === 0) return undefined;
    const now = this.now();
    for (let i = 0; i < this.entries.length; i++) {
      const entry = this.entries[(this.cursor + i) % this.entries.length] as ProxyEntry;
      if (entry.benchedUntil <= now) {
        this.cursor = (this.cursor + i + 1) % this.entries.length;
        entry.uses++;
        return entry;
      }
    }
    const soonest = this.entries.reduce((a, b) => (b.benchedUntil < a.benchedUntil ? b : a));
    soonest.uses++;
    return soonest;
  }

  reportFailure(entry: ProxyEntry): void {
    entry.failures++;
    const bench = Math.min(MAX_BENCH_MS, (this.options.benchMs ?? BENCH_MS) * 2 ** (entry.failures - 1));
    entry.benchedUntil = this.now() + bench;
  }

  reportSuccess(entry: ProxyEntry): void {
    entry.failures = 0;
    entry.benchedUntil = 0;
  }

  status(): ProxyStatus[] {
    const now = this.now();
    return this.entries.map((entry) => ({
      url: redact(entry.url),
      healthy: entry.benchedUntil <= now,
      failures: entry.failures,
      uses: entry.uses,
    }));
  }

  async dispatcher(entry: ProxyEntry): Promise<Dispatcher> {
    let dispatcher = this.dispatchers.get(entry.url);
    if (dispatcher === undefined) {
      const { Agent, ProxyAgent } = await import("undici/index.js");
      const { url, kind } = parseProxyUrl(entry.url);
      const timeout = this.options.connectTimeoutMs ?? 10_000;
      dispatcher =
        kind === "socks5"
          ? new Agent({ connect: socksConnector(parseSocksUrl(url), timeout) as never })
          : new ProxyAgent({ uri: url.href, connect: { timeout } });
      this.dispatchers.set(entry.url, dispatcher);
    }
    return dispatcher;
  }

  async close(): Promise<void> {
    await Promise.all([...this.dispatchers.values()].map((d) => d.close().catch(() => {})));
    this.dispatchers.clear();
  }
}

/** Proxy URLs may carry credentials; never print them. */
export function redact(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== "") url.password = "***";
    return url.href.replace(/\/$/, "");
  } catch {
    return raw;
  }
}
