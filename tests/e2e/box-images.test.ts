/**
 * The image commands through the compiled binary, against a real registry on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { busyboxLayer, multiLayerWithWhiteouts, pushImage } from "../fixtures/images.ts";
import { type Registry, startRegistry } from "../fixtures/registry.ts";
import { a3s, ensureBuilt, expectExit, tempHome } from "./a3s.ts";

let registry: Registry;
let secured: Registry;
beforeAll(async () => {
  [registry, secured] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: "token", users: { bob: "hunter2" } }),
    ensureBuilt(),
  ]);
  await pushImage(registry, "e2e/busybox", "1.36", { layers: [busyboxLayer()], config: { Cmd: ["sh"] } });
  await pushImage(registry, "e2e/layers", "latest", { layers: multiLayerWithWhiteouts() });
  await pushImage(secured, "team/app", "v1", { layers: [busyboxLayer()] });
});
afterAll(async () => {
  await Promise.all([registry?.stop(), secured?.stop()]);
});

describe("box pull / images / inspect / tag / rmi", () => {
  test("pull prints Docker's status lines and the reference; --json streams events and a result", async () => {
    const home = tempHome();
    const ref = `${registry.host}/e2e/busybox:1.36`;
    const pulled = expectExit(await a3s(["box", "pull", ref], { home }), 0);
    expect(pulled.stdout).toBe(`${ref}\n`);
    expect(pulled.stderr).toContain("Pull complete");
    expect(pulled.stderr).toContain(`Status: Downloaded newer image for ${ref}`);

    const again = expectExit(await a3s(["box", "pull", ref, "--json"], { home }), 0);
    const lines = again.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.at(-2)).toEqual({ status: `Status: Image is up to date for ${ref}` });
    expect(lines.at(-1).result).toMatchObject({ reference: ref, upToDate: true, downloadedBytes: 0 });
    expect(lines.at(-1).result.id).toMatch(/^sha256:[a-f0-9]{64}$/);
  });

  test("images lists, filters and formats; inspect gives Docker's JSON; tag and rmi", async () => {
    const home = tempHome();
    expectExit(await a3s(["box", "pull", "-q", `${registry.host}/e2e/busybox:1.36`], { home }), 0);
    expectExit(await a3s(["box", "pull", "-q", `${registry.host}/e2e/layers`], { home }), 0);

    const table = expectExit(await a3s(["box", "images"], { home }), 0).stdout.split("\n");
    expect(table[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(table.some((line) => line.startsWith(`${registry.host}/e2e/busybox   1.36 `))).toBe(true);

    const rows = expectExit(await a3s(["box", "images", "--json"], { home }), 0).json<
      Array<Record<string, string>>
    >();
    expect(rows.map((r) => r.Tag).sort()).toEqual(["1.36", "latest"]);

    const names = await a3s(
      ["box", "images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "reference=*/e2e/lay*"],
      { home },
    );
    expect(expectExit(names, 0).stdout).toBe(`${registry.host}/e2e/layers:latest\n`);

    const [inspect] = expectExit(
      await a3s(["box", "image", "inspect", `${registry.host}/e2e/busybox:1.36`], { home }),
      0,
    ).json<Array<{ Id: string; Size: number; Config: { Cmd: string[] }; RootFS: { Layers: string[] } }>>();
    expect(inspect?.Config.Cmd).toEqual(["sh"]);
    expect(inspect?.RootFS.Layers).toHaveLength(1);
    expect(inspect?.Size).toBeGreaterThan(statSync("/bin/busybox").size);

    expectExit(await a3s(["box", "tag", `${registry.host}/e2e/busybox:1.36`, "mybox:dev"], { home }), 0);
    const ids = expectExit(await a3s(["box", "images", "-q"], { home }), 0)
      .stdout.trim()
      .split("\n");
    expect(ids).toHaveLength(2);

    const refused = expectExit(
      await a3s(["box", "rmi", ids.find((id) => inspect?.Id.includes(id))!], { home }),
      4,
    );
    expect(refused.stderr).toContain("referenced in multiple repositories");

    const untag = expectExit(await a3s(["box", "rmi", "mybox:dev"], { home }), 0);
    expect(untag.stdout).toBe("Untagged: mybox:dev\n");
    const removed = expectExit(await a3s(["box", "rmi", `${registry.host}/e2e/busybox:1.36`], { home }), 0);
    expect(removed.stdout).toContain(`Deleted: ${inspect?.Id}`);
    expect(
      expectExit(await a3s(["box", "images", "-q"], { home }), 0)
        .stdout.trim()
        .split("\n"),
    ).toHaveLength(1);
  });

  test("bad input: clear errors and exit codes", async () => {
    const home = tempHome();
    const bad = expectExit(await a3s(["box", "pull", "Bad/Name"], { home }), 2);
    expect(bad.stderr).toContain("invalid reference format");
    expect(
      expectExit(await a3s(["box", "pull", `${registry.host}/e2e/busybox:nope`], { home }), 3).stderr,
    ).toContain("not found");
    expect(expectExit(await a3s(["box", "pull", "127.0.0.1:1/x/y"], { home }), 5).stderr).toContain(
      "cannot reach",
    );
    expect(expectExit(await a3s(["box", "rmi", "nothing:here"], { home }), 3).stderr).toContain(
      "No such image",
    );
    const json = expectExit(await a3s(["box", "image", "inspect", "nothing", "--json"], { home }), 3);
    expect(json.json<{ error: { code: string } }>().error.code).toBe("not_found");
  });
});

describe("box login / logout", () => {
  test("private registry: refused anonymously, works after login, refused after logout", async () => {
    const home = tempHome();
    const ref = `${secured.host}/team/app:v1`;
    expect(expectExit(await a3s(["box", "pull", ref], { home }), 7).stderr).toContain("a3s box login");

    const wrong = await a3s(["box", "login", secured.host, "-u", "bob", "--password-stdin"], {
      home,
      stdin: "nope\n",
    });
    expectExit(wrong, 7);
    const ok = await a3s(["box", "login", secured.host, "-u", "bob", "--password-stdin"], {
      home,
      stdin: "hunter2\n",
    });
    expect(expectExit(ok, 0).stdout).toBe("Login Succeeded\n");
    expect(statSync(join(home, "auth.json")).mode & 0o777).toBe(0o600);
    expectExit(await a3s(["box", "pull", "-q", ref], { home }), 0);

    expect(expectExit(await a3s(["box", "logout", secured.host], { home }), 0).stdout).toContain(
      "Removing login",
    );
    expectExit(await a3s(["box", "rmi", ref], { home }), 0);
    expectExit(await a3s(["box", "pull", ref], { home }), 7);
  });
});
