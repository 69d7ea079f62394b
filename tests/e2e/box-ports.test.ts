/**
 * Published ports through the compiled binary: a busybox httpd in a box, reached from the host
 * through `-p`, and a second box refused the same host port with Docker's exit code and message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { busyboxLayer, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

const skipReason =
  process.getuid?.() !== 0
    ? "needs root (boxes run under an OCI runtime)"
    : !Bun.which("crun")
      ? "crun is not installed"
      : !Bun.which("nsenter")
        ? "nsenter (util-linux) is not installed"
        : undefined;
if (skipReason) console.warn(`skipping the published-port e2e tests: ${skipReason}`);
const maybe = skipReason ? describe.skip : describe;

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";

let registry: Registry;
let image: string;
beforeAll(async () => {
  if (skipReason) return;
  [registry] = await Promise.all([startRegistry(), ensureBuilt()]);
  await pushImage(registry, "e2e/busybox", "ports", { layers: [busyboxLayer()] });
  image = `${registry.host}/e2e/busybox:ports`;
});
afterAll(async () => {
  await registry?.stop();
});

interface Inspected {
  State: { Status: string };
  NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }>> };
}

/** The box's httpd may take a moment to listen after `run -d` returns. */
async function fetchWithRetry(url: string, timeoutMs = 10_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await Bun.sleep(50);
    }
  }
}

/** Pids of port-forwarding helpers started for this a3s home. */
function helpersOf(home: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return cmdline.includes("forward-helper") && cmdline.includes(home);
      } catch {
        return false;
      }
    })
    .map(Number);
}

maybe("box run -p", () => {
  test("forwards a host port to the box; ps and inspect show it; a second box cannot take it", async () => {
    const home = tempHome();
    const id = expectExit(
      await a3s(
        [
          "box",
          "run",
          "-d",
          "-p",
          "127.0.0.1:0:8080",
          image,
          "busybox",
          "httpd",
          "-f",
          "-p",
          "8080",
          "-h",
          "/etc",
        ],
        { home },
      ),
      0,
    ).stdout.trim();
    try {
      const [inspected] = expectExit(await a3s(["box", "inspect", id], { home }), 0).json<Inspected[]>();
      expect(inspected?.State.Status).toBe("running");
      const binding = inspected?.NetworkSettings.Ports["8080/tcp"]?.[0];
      expect(binding?.HostIp).toBe("127.0.0.1");
      const hostPort = Number(binding?.HostPort);
      expect(hostPort).toBeGreaterThan(0);

      const ps = expectExit(await a3s(["box", "ps", "--format", "{{.Ports}}"], { home }), 0);
      expect(ps.stdout.trim()).toBe(`127.0.0.1:${hostPort}->8080/tcp`);

      const response = await fetchWithRetry(`http://127.0.0.1:${hostPort}/passwd`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(PASSWD);

      for (const detach of [["-d"], []]) {
        const refused = await a3s(
          ["box", "run", ...detach, "-p", `127.0.0.1:${hostPort}:80`, image, "sleep", "60"],
          { home },
        );
        expectExit(refused, 125);
        expect(refused.stderr).toContain(`Bind for 127.0.0.1:${hostPort} failed: port is already allocated`);
      }
      // The refusals did not disturb the first box.
      expect(await (await fetch(`http://127.0.0.1:${hostPort}/group`)).text()).toStartWith("root:x:0:");
    } finally {
      expectExit(await a3s(["box", "rm", "-f", id], { home }), 0);
    }
    expect(helpersOf(home)).toEqual([]);
  });
});
