import { describe, expect, test } from "bun:test";
import type { A3sError } from "../src/core/errors.ts";
import { displayWidth, formatTable, Output, renderTemplate, type Stream } from "./output.ts";
import { formatBar, formatBytes, ProgressView } from "./progress.ts";

class Capture implements Stream {
  text = "";
  constructor(readonly isTTY = false) {}
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

function output(options: Partial<{ json: boolean; quiet: boolean; tty: boolean }> = {}) {
  const stdout = new Capture();
  const stderr = new Capture(options.tty ?? false);
  const out = new Output({
    json: options.json ?? false,
    quiet: options.quiet ?? false,
    verbose: false,
    color: false,
    stdout,
    stderr,
  });
  return { out, stdout, stderr };
}

const rows = [
  { ID: "3f2a9c1b0d4e", Image: "alpine:latest", Names: "web" },
  { ID: "77aa", Image: "docker.io/library/busybox:1.36", Names: "a-much-longer-name" },
];
const columns = [
  { header: "BOX ID", value: (r: (typeof rows)[number]) => r.ID },
  { header: "IMAGE", value: (r: (typeof rows)[number]) => r.Image },
  { header: "NAMES", value: (r: (typeof rows)[number]) => r.Names },
];

describe("formatTable", () => {
  test("aligns columns three spaces apart like docker ps, last column unpadded", () => {
    expect(formatTable(rows, columns)).toBe(
      [
        "BOX ID         IMAGE                            NAMES",
        "3f2a9c1b0d4e   alpine:latest                    web",
        "77aa           docker.io/library/busybox:1.36   a-much-longer-name",
        "",
      ].join("\n"),
    );
  });

  test("an empty list prints only the header", () => {
    expect(formatTable([], columns)).toBe("BOX ID   IMAGE   NAMES\n");
  });

  test("wide characters count double", () => {
    expect(displayWidth("任务")).toBe(4);
    const table = formatTable(
      [
        { n: "任务", v: "x" },
        { n: "ab", v: "y" },
      ],
      [
        { header: "NAME", value: (r) => r.n },
        { header: "V", value: (r) => r.v },
      ],
    );
    expect(table.split("\n")[1]).toBe("任务   x");
    expect(table.split("\n")[2]).toBe("ab     y");
  });
});

describe("renderTemplate", () => {
  test("fields, tabs and json", () => {
    expect(renderTemplate("{{.ID}}\\t{{.Names}}", rows[0]!)).toBe("3f2a9c1b0d4e\tweb");
    expect(renderTemplate("{{json .Names}}", rows[0]!)).toBe('"web"');
    expect(JSON.parse(renderTemplate("{{json .}}", rows[0]!))).toEqual(rows[0]!);
    expect(renderTemplate("{{ .Labels.app }}", { Labels: { app: "x" } })).toBe("x");
  });

  test("an unknown field is a usage error listing the fields", () => {
    try {
      renderTemplate("{{.Nope}}", rows[0]!);
      throw new Error("expected an error");
    } catch (err) {
      expect((err as A3sError).code).toBe("usage");
      expect((err as A3sError).hint).toContain("ID");
    }
  });
});

describe("Output", () => {
  test("list: table, json lines, template, and --json as one array", () => {
    let o = output();
    o.out.list(rows, columns);
    expect(o.stdout.text.split("\n")[0]).toStartWith("BOX ID");

    o = output();
    o.out.list(rows, columns, "json");
    expect(
      o.stdout.text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual(rows);

    o = output();
    o.out.list(rows, columns, "{{.Names}}");
    expect(o.stdout.text).toBe("web\na-much-longer-name\n");

    o = output({ json: true });
    o.out.list(rows, columns);
    expect(JSON.parse(o.stdout.text)).toEqual(rows);
  });

  test("diagnostics go to stderr and are silenced by -q and --json, warnings are not", () => {
    let o = output();
    o.out.info("pulling");
    expect(o.stderr.text).toBe("pulling\n");
    expect(o.stdout.text).toBe("");
    o = output({ quiet: true });
    o.out.info("pulling");
    o.out.warn("careful");
    expect(o.stderr.text).toBe("warning: careful\n");
  });

  test("interactive only on a TTY without --json or -q", () => {
    expect(output({ tty: true }).out.interactive).toBe(true);
    expect(output({ tty: false }).out.interactive).toBe(false);
    expect(output({ tty: true, json: true }).out.interactive).toBe(false);
    expect(output({ tty: true, quiet: true }).out.interactive).toBe(false);
  });
});

describe("progress", () => {
  test("bytes in Docker's units", () => {
    expect(formatBytes(512)).toBe("512B");
    expect(formatBytes(3_400_000)).toBe("3.40MB");
    expect(formatBytes(27_100_000)).toBe("27.1MB");
  });

  test("bars", () => {
    expect(formatBar(0, 10, 10)).toBe("[>         ]");
    expect(formatBar(5, 10, 10)).toBe("[=====>    ]");
    expect(formatBar(10, 10, 10)).toBe("[==========]");
    expect(formatBar(3, undefined, 4)).toBe("[    ]");
  });

  test("draws nothing off a TTY", () => {
    const stream = new Capture(false);
    const view = new ProgressView(stream, false);
    view.update("a", "layer a");
    view.done();
    expect(stream.text).toBe("");
  });

  test("redraws lines in place on a TTY", () => {
    const stream = new Capture(true);
    const view = new ProgressView(stream, true, 10_000);
    view.update("a", "a: Downloading");
    view.update("b", "b: Waiting");
    view.flush();
    view.update("a", "a: Pull complete");
    view.done();
    expect(stream.text).toBe(
      "\x1b[2Ka: Downloading\n\x1b[2Kb: Waiting\n\x1b[2A\x1b[2Ka: Pull complete\n\x1b[2Kb: Waiting\n",
    );
  });
});
