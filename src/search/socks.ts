/**
 * SOCKS5 (RFC 1928, with RFC 1929 username/password) CONNECT, as an undici connector: undici has no
 * SOCKS support, and the handshake is small enough to own rather than add a dependency for.
 * The proxy resolves host names (socks5h semantics), so DNS does not leak around the proxy.
 */
import net from "node:net";
import tls from "node:tls";
import { A3sError } from "../core/errors.ts";

export interface SocksProxy {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

const REPLY_MESSAGES: Record<number, string> = {
  1: "general failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

/** Reads exact byte counts from a socket during the handshake. */
class Reader {
  private buffer = Buffer.alloc(0);
  private waiting: { size: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.on("data", this.onData);
    socket.once("error", this.onError);
    socket.once("close", this.onClose);
  }

  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.flush();
  };
  private readonly onError = (err: Error) => this.fail(err);
  private readonly onClose = () => this.fail(new Error("the SOCKS proxy closed the connection"));

  private fail(err: Error): void {
    this.failure ??= err;
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = undefined;
      reject(err);
    }
  }

  private flush(): void {
    if (this.waiting && this.buffer.length >= this.waiting.size) {
      const { size, resolve } = this.waiting;
      this.waiting = undefined;
      const out = this.buffer.subarray(0, size);
      this.buffer = this.buffer.subarray(size);
      resolve(out);
    }
  }

  read(size: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { size, resolve, reject };
      this.flush();
    });
  }

  /** Stops listening; bytes past the handshake (none, for a client that has not sent yet) stay. */
  release(): void {
    this.socket.off("data", this.onData);
    this.socket.off("error", this.onError);
    this.socket.off("close", this.onClose);
  }
}

/** Opens a TCP connection to `target` through the SOCKS5 proxy. */
export async function socksConnect(
  proxy: SocksProxy,
  target: { host: string; port: number },
  timeoutMs = 10_000,
): Promise<net.Socket> {
  const socket = net.connect({ host: proxy.host, port: proxy.port });
  socket.setNoDelay(true);
  const timer = setTimeout(
    () => socket.destroy(new Error(`SOCKS proxy ${proxy.host}:${proxy.port} timed out`)),
    timeoutMs,
  );
  const reader = new Reader(socket);
  try {
    const auth = proxy.username !== undefined;
    socket.write(Buffer.from(auth ? [5, 2, 0, 2] : [5, 1, 0]));
    const [version, method] = await reader.read(2);
    if (version !== 5) throw new Error("not a SOCKS5 proxy");
    if (method === 2) {
      const user = Buffer.from(proxy.username ?? "");
      const pass = Buffer.from(proxy.password ?? "");
      socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
      const [, status] = await reader.read(2);
      if (status !== 0) throw new Error("the SOCKS proxy rejected the username or password");
    } else if (method !== 0) {
      throw new Error("the SOCKS proxy accepts none of our authentication methods");
    }
    const host = Buffer.from(target.host);
    const port = Buffer.alloc(2);
    port.writeUInt16BE(target.port);
    const address = net.isIPv4(target.host)
      ? Buffer.from([1, ...target.host.split(".").map(Number)])
      : Buffer.concat([Buffer.from([3, host.length]), host]);
    socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, port]));
    const [, reply, , type] = await reader.read(4);
    if (reply !== 0)
      throw new Error(`SOCKS CONNECT failed: ${REPLY_MESSAGES[reply ?? 1] ?? `code ${reply}`}`);
    // Skip the bound address the proxy reports: we have no use for it.
    const addressLength = type === 1 ? 4 : type === 4 ? 16 : ((await reader.read(1))[0] ?? 0);
    await reader.read(addressLength + 2);
    return socket;
  } catch (err) {
    socket.destroy();
    throw new A3sError("network", `SOCKS proxy ${proxy.host}:${proxy.port}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
    reader.release();
  }
}

interface ConnectOptions {
  hostname: string;
  protocol: string;
  port: string;
  servername?: string | null;
}
type ConnectCallback = (err: Error | null, socket: net.Socket | tls.TLSSocket | null) => void;

/** An undici `connect` function that tunnels every connection through the SOCKS5 proxy. */
export function socksConnector(proxy: SocksProxy, timeoutMs = 10_000) {
  return (options: ConnectOptions, callback: ConnectCallback): void => {
    const https = options.protocol === "https:";
    const port = Number(options.port) || (https ? 443 : 80);
    const host = options.hostname.replace(/^\[|\]$/g, "");
    socksConnect(proxy, { host, port }, timeoutMs).then(
      (socket) => {
        if (!https) {
          callback(null, socket);
          return;
        }
        const secure = tls.connect({
          socket,
          servername: options.servername ?? (net.isIP(host) ? undefined : host),
          ALPNProtocols: ["http/1.1"],
        });
        secure.once("secureConnect", () => callback(null, secure));
        secure.once("error", (err) => callback(err, null));
      },
      (err: Error) => callback(err, null),
    );
  };
}

export function parseSocksUrl(url: URL): SocksProxy {
  const proxy: SocksProxy = { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) || 1080 };
  if (url.username !== "") {
    proxy.username = decodeURIComponent(url.username);
    proxy.password = decodeURIComponent(url.password);
  }
  return proxy;
}
