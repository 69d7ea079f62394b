/**
 * The port forwarder without an OCI runtime: a network namespace of its own (unshare, loopback up)
 * holds small TCP servers; the forwarder's helper enters it with nsenter, as it does for a box.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { A3sError } from "../core/errors.ts";
import {
  type ForwardTarget,
  forwardSocketPath,
  type PortForwarder,
  publishPorts,
  startPortForwarding,
} from "./ports.ts";
import type { PortMapping } from "./runtime/options.ts";

const ROOT = join(import.meta.dir, "..", "..");
const ECHO = 7000;
const COUNT = 7001;
const NOTHING = 7999;

const skipReason =
  process.getuid?.() !== 0
    ? "needs root (network namespaces)"
    : !Bun.which("unshare") || !Bun.which("nsenter") || !Bun.which("ip")
      ? "unshare, nsenter and ip (util-linux, iproute2) are needed"
      : undefined;
if (skipReason) console.warn(`skipping the port forwarder tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

/** Echo on ECHO; on COUNT, read to the end, then answer the byte count and close. */
const SERVERS = `
import net from "node:net";
net.createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(${ECHO}, "127.0.0.1", () => {
  net.createServer({ allowHalfOpen: true }, (s) => {
    let count = 0;
    s.on("data", (d) => { count += d.length; });
    s.on("end", () => s.end(String(count)));
  }).listen(${COUNT}, "127.0.0.1", () => console.log("listening"));
});
`;

let dir: string;
let netns: Subprocess;
let servers: Subprocess;

beforeAll(async () => {
  if (skipReason) return;
  dir = mkdtempSync(join(tmpdir(), "a3s-ports-"));
  writeFileSync(join(dir, "servers.ts"), SERVERS);
  netns = Bun.spawn(["unshare", "--net", "--", "sh", "-c", "ip link set lo up && exec sleep 3600"]);
  for (let i = 0; i < 200 && !(await loopbackUp(netns.pid)); i++) await Bun.sleep(5);
  const started = Bun.spawn(
    ["nsenter", `--net=/proc/${netns.pid}/ns/net`, "--", process.execPath, join(dir, "servers.ts")],
    { stdout: "pipe", stderr: "inherit" },
  );
  servers = started;
  const reader = started.stdout.getReader();
  const first = await reader.read();
  expect(new TextDecoder().decode(first.value)).toContain("listening");
  reader.releaseLock();
});

afterAll(() => {
  servers?.kill("SIGKILL");
  netns?.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function loopbackUp(pid: number): Promise<boolean> {
  const probe = Bun.spawn(["nsenter", `--net=/proc/${pid}/ns/net`, "--", "ip", "-o", "link", "show", "lo"], {
    stdout: "pipe",
  });
  return (await new Response(probe.stdout).text()).includes("UP");
}

/** A box of its own (directory and id) in the shared namespace. */
function target(name: string): ForwardTarget {
  const boxDir = join(dir, name);
  mkdirSync(boxDir, { recursive: true });
  return {
    netnsPid: netns.pid,
    boxDir,
    boxId: name.padEnd(64, "0"),
    command: [process.execPath, join(ROOT, "cli", "main.ts")],
  };
}

function mapping(containerPort: number, hostPort = 0): PortMapping {
  return { hostIp: "127.0.0.1", hostPort, containerPort, protocol: "tcp" };
}

function socketOf(box: ForwardTarget): string {
  return forwardSocketPath(box.boxDir, box.boxId);
}

function port(forwarder: PortForwarder, index = 0): number {
  return forwarder.bound[index]?.hostPort ?? 0;
}

interface Exchange {
  received: Buffer;
  /** How the connection ended for the client: a FIN ("end"), or closed without one. */
  ending: "end" | "close";
}

/** Connects, sends `payload`, half-closes, and collects everything until the server's FIN. */
function exchange(hostPort: number, payload: Uint8Array, halfClose = true): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    const socket = net.connect({ host: "127.0.0.1", port: hostPort, allowHalfOpen: true }, () => {
      socket.write(payload);
      if (halfClose) socket.end();
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      ended = true;
      socket.end();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNRESET" || err.code === "EPIPE") return;
      reject(err);
    });
    socket.on("close", () => resolve({ received: Buffer.concat(chunks), ending: ended ? "end" : "close" }));
  });
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Pids whose command line mentions `text` (the helper is known by its socket path). */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids.filter((pid) => pid !== process.pid);
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(20);
  }
  return true;
}

maybe("port forwarding into a network namespace", () => {
  let forwarder: PortForwarder;
  beforeAll(async () => {
    if (skipReason) return;
    forwarder = await startPortForwarding({
      ...target("main"),
      mappings: [mapping(ECHO), mapping(COUNT), mapping(NOTHING)],
    });
  });
  afterAll(() => forwarder?.close());

  test("host port 0 is replaced by the port the system picked", () => {
    expect(forwarder.bound).toHaveLength(3);
    for (const bound of forwarder.bound) expect(bound.hostPort).toBeGreaterThan(0);
    expect(forwarder.bound.map((b) => b.containerPort)).toEqual([ECHO, COUNT, NOTHING]);
  });

  test("echo through the forwarder, and the server's FIN comes back after the client's", async () => {
    const result = await exchange(port(forwarder), new TextEncoder().encode("hello box\n"));
    expect(result.received.toString()).toBe("hello box\n");
    expect(result.ending).toBe("end");
  });

  test("half-close: the server answers after reading to the end", async () => {
    const result = await exchange(port(forwarder, 1), randomBytes(1 << 20));
    expect(result.received.toString()).toBe(String(1 << 20));
    expect(result.ending).toBe("end");
  });

  test("20 MB both ways arrive intact", async () => {
    const payload = randomBytes(20 << 20);
    const started = performance.now();
    const result = await exchange(port(forwarder), payload);
    const seconds = (performance.now() - started) / 1000;
    expect(result.received.length).toBe(payload.length);
    expect(sha256(result.received)).toBe(sha256(payload));
    console.log(`forwarder echo: 20 MB each way in ${(seconds * 1000).toFixed(0)} ms`);
  });

  test("50 concurrent connections each get their own bytes back", async () => {
    const payloads = Array.from({ length: 50 }, (_, i) => randomBytes(64 * 1024 + i * 997));
    const results = await Promise.all(payloads.map((payload) => exchange(port(forwarder), payload)));
    results.forEach((result, i) => {
      expect(sha256(result.received)).toBe(sha256(payloads[i]!));
    });
  });

  test("a box port nothing listens on: the client sees the connection close", async () => {
    const result = await exchange(port(forwarder, 2), new TextEncoder().encode("anyone?"), false);
    expect(result.received.length).toBe(0);
  });

  test("a host port in use fails with Docker's 'port is already allocated'", async () => {
    const taken = port(forwarder);
    const attempt = startPortForwarding({ ...target("taken"), mappings: [mapping(ECHO, taken)] });
    const err = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(A3sError);
    expect((err as A3sError).code).toBe("conflict");
    expect((err as A3sError).message).toBe(`Bind for 127.0.0.1:${taken} failed: port is already allocated`);
    expect(processesWith(socketOf(target("taken")))).toEqual([]);
  });
});

maybe("the forwarder's life", () => {
  test("close() stops listening and leaves no helper behind", async () => {
    const forwarder = await startPortForwarding({ ...target("close"), mappings: [mapping(ECHO)] });
    const socket = socketOf(target("close"));
    expect(processesWith(socket)).toHaveLength(1);
    await forwarder.close();
    expect(processesWith(socket)).toEqual([]);
    const refused = await exchange(port(forwarder), new Uint8Array([1])).then(
      () => "connected",
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(refused).toBe("ECONNREFUSED");
  });

  test("ports stay bound across detach and attach (a restart): refused between, forwarded during", async () => {
    const ports = publishPorts([mapping(ECHO)]);
    try {
      const hostPort = port(ports);
      const before = await exchange(hostPort, new TextEncoder().encode("x"), false);
      expect(before.received.length).toBe(0);
      for (let run = 0; run < 2; run++) {
        await ports.attach(target("restart"));
        const during = await exchange(hostPort, new TextEncoder().encode(`run ${run}`));
        expect(during.received.toString()).toBe(`run ${run}`);
        await ports.detach();
        expect(processesWith(socketOf(target("restart")))).toEqual([]);
      }
    } finally {
      await ports.close();
    }
  });

  test("a connection open when the box goes away is closed", async () => {
    const ports = publishPorts([mapping(ECHO)]);
    try {
      await ports.attach(target("cut"));
      const closed = new Promise<void>((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port: port(ports) }, () => socket.write("held"));
        socket.on("error", () => {});
        socket.on("close", () => resolve());
      });
      await Bun.sleep(50);
      await ports.detach();
      await closed;
    } finally {
      await ports.close();
    }
  });

  test("the helper never outlives the process that started it", async () => {
    const script = join(dir, "parent.ts");
    writeFileSync(
      script,
      `import { startPortForwarding } from ${JSON.stringify(join(import.meta.dir, "ports.ts"))};
       await startPortForwarding(${JSON.stringify({ ...target("orphan"), mappings: [mapping(ECHO)] })});
       console.log("forwarding");
       await Bun.sleep(60_000);`,
    );
    const parent = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
    const reader = parent.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("forwarding");
    const socket = socketOf(target("orphan"));
    expect(processesWith(socket)).toHaveLength(1);
    parent.kill("SIGKILL");
    expect(await until(() => processesWith(socket).length === 0)).toBe(true);
  });
});

maybe("forwarder performance", () => {
  test("throughput and connection latency, against a direct connection on the host", async () => {
    const direct = net
      .createServer({ allowHalfOpen: true }, (s) => s.pipe(s))
      .listen(0, "127.0.0.1") as net.Server;
    await new Promise((resolve) => direct.once("listening", resolve));
    const directPort = (direct.address() as net.AddressInfo).port;
    const forwarder = await startPortForwarding({ ...target("perf"), mappings: [mapping(ECHO)] });
    try {
      const measure = async (hostPort: number) => {
        const payload = randomBytes(64 << 20);
        let started = performance.now();
        const result = await exchange(hostPort, payload);
        const mbps = (2 * payload.length) / (1 << 20) / ((performance.now() - started) / 1000);
        expect(result.received.length).toBe(payload.length);
        const rounds = 200;
        started = performance.now();
        for (let i = 0; i < rounds; i++) await exchange(hostPort, new Uint8Array([i]));
        return { mbps, latencyMs: (performance.now() - started) / rounds };
      };
      const forwarded = await measure(port(forwarder));
      const baseline = await measure(directPort);
      console.log(
        `forwarded: ${forwarded.mbps.toFixed(0)} MB/s (64 MB echoed, both directions counted), ` +
          `${forwarded.latencyMs.toFixed(2)} ms per connect+echo+close; ` +
          `direct: ${baseline.mbps.toFixed(0)} MB/s, ${baseline.latencyMs.toFixed(2)} ms`,
      );
      expect(forwarded.mbps).toBeGreaterThan(20);
    } finally {
      await forwarder.close();
      direct.close();
    }
  });
});
