/**
 * Fake search engines on 127.0.0.1 for the end-to-end tests and the benchmark: each serves one
 * recorded response (tests/fixtures/search/) with a fixed delay, status and encoding, and counts its
 * requests. A forward proxy (CONNECT and absolute-form requests) counts what goes through it.
 */
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const FIXTURES = join(import.meta.dir, "..", "fixtures", "search");

export interface FakeEngineSpec {
  /** Path under tests/fixtures/search, or the body itself with `body`. */
  fixture?: string;
  body?: string;
  delayMs?: number;
  status?: number;
  gzip?: boolean;
}

export interface FakeEngines {
  baseUrls: Record<string, string>;
  hits: Record<string, number>;
  close(): Promise<void>;
}

function contentType(path: string): string {
  return path.endsWith(".json") ? "application/json; charset=utf-8" : "text/html; charset=utf-8";
}

export async function startFakeEngines(specs: Record<string, FakeEngineSpec>): Promise<FakeEngines> {
  const baseUrls: Record<string, string> = {};
  const hits: Record<string, number> = {};
  const servers: http.Server[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const text = spec.body ?? (await Bun.file(join(FIXTURES, spec.fixture ?? "")).text());
    const payload = spec.gzip ? gzipSync(text) : Buffer.from(text);
    hits[name] = 0;
    const server = http.createServer((request, response) => {
      hits[name] = (hits[name] ?? 0) + 1;
      request.resume();
      const timer = setTimeout(() => {
        response.writeHead(spec.status ?? 200, {
          "content-type": contentType(spec.fixture ?? ".html"),
          "content-length": payload.length,
          ...(spec.gzip ? { "content-encoding": "gzip" } : {}),
        });
        response.end(payload);
      }, spec.delayMs ?? 0);
      // A client that gave up (timeout) must not leave the timer holding the server open.
      response.on("close", () => clearTimeout(timer));
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    baseUrls[name] = `http://127.0.0.1:${port}`;
    servers.push(server);
  }
  return {
    baseUrls,
    hits,
    close: async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}

export interface ProxyServer {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** An HTTP forward proxy: tunnels CONNECT, forwards absolute-form requests. */
export async function startHttpProxy(): Promise<ProxyServer> {
  const state = { requests: 0 };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    state.requests++;
    const target = new URL(request.url ?? "/");
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => response.destroy());
    request.pipe(upstream);
  });
  server.on("connect", (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    state.requests++;
    const [host, port] = (request.url ?? "").split(":");
    const upstream = net.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(client).add(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  server.on("connection", (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A loopback address nothing listens on: a proxy that is down. */
export async function deadAddress(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
