/**
 * SOCKS5 against a small SOCKS5 server written here (RFC 1928 CONNECT with optional RFC 1929
 * authentication), in front of a local HTTP server reached through undici.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http from "node:http";
import net from "node:net";
import { expectA3sErrorAsync } from "../../tests/expect-error.ts";
import { httpRequest } from "../core/http.ts";
import { ProxyPool } from "./proxy-pool.ts";
import { socksConnect } from "./socks.ts";

interface SocksServer {
  port: number;
  connects: string[];
  close(): Promise<void>;
}

async function startSocksServer(credentials?: { user: string; pass: string }): Promise<SocksServer> {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    let stage: "greeting" | "auth" | "request" = "greeting";
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === "greeting" && buffer.length >= 2 && buffer.length >= 2 + (buffer[1] ?? 0)) {
        const methods = [...buffer.subarray(2, 2 + (buffer[1] ?? 0))];
        buffer = buffer.subarray(2 + (buffer[1] ?? 0));
        const wanted = credentials ? 2 : 0;
        if (!methods.includes(wanted)) {
          client.end(Buffer.from([5, 0xff]));
          return;
        }
        client.write(Buffer.from([5, wanted]));
        stage = credentials ? "auth" : "request";
      }
      if (stage === "auth" && buffer.length >= 2) {
        const userLength = buffer[1] ?? 0;
        const passLength = buffer[2 + userLength];
        if (passLength === undefined || buffer.length < 3 + userLength + passLength) return;
        const user = buffer.subarray(2, 2 + userLength).toString();
        const pass = buffer.subarray(3 + userLength, 3 + userLength + passLength).toString();
        buffer = buffer.subarray(3 + userLength + passLength);
        const ok = user === credentials?.user && pass === credentials?.pass;
        client.write(Buffer.from([1, ok ? 0 : 1]));
        if (!ok) {
          client.end();
          return;
        }
        stage = "request";
      }
      if (stage === "request" && buffer.length >= 5) {
        const type = buffer[3];
        let host: string;
        let offset: number;
        if (type === 1) {
          host = [...buffer.subarray(4, 8)].join(".");
          offset = 8;
        } else {
          const length = buffer[4] ?? 0;
          if (buffer.length < 5 + length + 2) return;
          host = buffer.subarray(5, 5 + length).toString();
          offset = 5 + length;
        }
        const port = buffer.readUInt16BE(offset);
        client.off("data", onData);
        connects.push(`${host}:${port}`);
        const upstream = net.connect(port, host, () => {
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on("error", () => {
          client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]));
        });
      }
    };
    client.on("data", onData);
    client.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connects,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let target: http.Server;
let targetPort: number;

beforeAll(async () => {
  target = http.createServer((request, response) => response.end(`hello from ${request.url}`));
  await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
  targetPort = (target.address() as net.AddressInfo).port;
});

afterAll(() => {
  target.closeAllConnections();
  target.close();
});

describe("SOCKS5", () => {
  test("undici requests go through a socks5:// proxy from the pool", async () => {
    const socks = await startSocksServer();
    const pool = new ProxyPool([`socks5://127.0.0.1:${socks.port}`]);
    try {
      const entry = pool.next();
      if (!entry) throw new Error("no proxy");
      const response = await httpRequest(`http://localhost:${targetPort}/via-socks`, {
        dispatcher: await pool.dispatcher(entry),
        retries: 0,
      });
      expect(await response.body.text()).toBe("hello from /via-socks");
      // The proxy resolved the name: the client sent "localhost", not an address.
      expect(socks.connects).toEqual([`localhost:${targetPort}`]);
    } finally {
      await pool.close();
      await socks.close();
    }
  });

  test("username and password authentication", async () => {
    const socks = await startSocksServer({ user: "agent", pass: "s3cret" });
    try {
      const socket = await socksConnect(
        { host: "127.0.0.1", port: socks.port, username: "agent", password: "s3cret" },
        { host: "127.0.0.1", port: targetPort },
      );
      socket.write("GET /auth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      const reply = await new Promise<string>((resolve) => {
        let text = "";
        socket.on("data", (chunk) => (text += chunk));
        socket.on("end", () => resolve(text));
      });
      expect(reply).toContain("hello from /auth");
      await expectA3sErrorAsync(
        socksConnect(
          { host: "127.0.0.1", port: socks.port, username: "agent", password: "wrong" },
          { host: "127.0.0.1", port: targetPort },
        ),
        "network",
        /rejected the username or password/,
      );
    } finally {
      await socks.close();
    }
  });

  test("a refused target and a dead proxy are network errors", async () => {
    const socks = await startSocksServer();
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    try {
      await expectA3sErrorAsync(
        socksConnect({ host: "127.0.0.1", port: socks.port }, { host: "127.0.0.1", port: deadPort }),
        "network",
        /connection refused|closed the connection/,
      );
      await expectA3sErrorAsync(
        socksConnect({ host: "127.0.0.1", port: deadPort }, { host: "127.0.0.1", port: targetPort }),
        "network",
        /SOCKS proxy 127\.0\.0\.1/,
      );
    } finally {
      await socks.close();
    }
  });
});
