import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { globTool } from "./glob.ts";
import { lsTool } from "./ls.ts";
import { tempDir, toolContext, writeTree } from "./testing.ts";

const repo = tempDir();
execFileSync("git", ["init", "-q"], { cwd: repo });
writeTree(repo, {
  ".gitignore": "build/\n*.tmp\n",
  "src/old.ts": "1",
  "src/new.ts": "22",
  "src/deep/x.test.ts": "333",
  "src/view.tsx": "4",
  "README.md": "# readme\n",
  "build/out.ts": "ignored",
  "scratch.tmp": "ignored",
});
mkdirSync(join(repo, "empty"));
symlinkSync("src/new.ts", join(repo, "shortcut.ts"));
// Modification times decide glob's order: new.ts newest, old.ts oldest.
const at = (path: string, seconds: number) => utimesSync(join(repo, path), seconds, seconds);
at("src/old.ts", 1_000);
at("src/deep/x.test.ts", 2_000);
at("src/view.tsx", 3_000);
at("src/new.ts", 4_000);
const ctx = toolContext(repo);

describe("glob", () => {
  const glob = (input: Record<string, unknown>) => globTool.run(globTool.input.parse(input), ctx);

  test("** matches at any depth, newest first, ignored files left out", async () => {
    const result = await glob({ pattern: "**/*.ts" });
    expect(result.content).toBe("src/new.ts\nsrc/deep/x.test.ts\nsrc/old.ts");
    expect(result.summary).toBe("3 files");
  });

  test("one-level patterns, braces and a search path", async () => {
    expect((await glob({ pattern: "*.md" })).content).toBe("README.md");
    expect((await glob({ pattern: "*.ts" })).content).toBe("No files found.");
    expect((await glob({ pattern: "*.{ts,tsx}", path: "src" })).content).toBe(
      "src/new.ts\nsrc/view.tsx\nsrc/old.ts",
    );
    expect((await glob({ pattern: "**/*.test.ts", path: "src" })).content).toBe("src/deep/x.test.ts");
  });

  test("paths outside and non-directories are errors", async () => {
    expect((await glob({ pattern: "*", path: "/etc" })).content).toContain("outside the workspace");
    expect((await glob({ pattern: "*", path: "README.md" })).content).toContain("is not a directory");
  });
});

describe("ls", () => {
  const ls = (input: Record<string, unknown>) => lsTool.run(lsTool.input.parse(input), ctx);

  test("a two-level tree with sizes, symlink targets and no ignored entries", async () => {
    const result = await ls({});
    expect(result.content).toBe(
      [
        `${repo}/`,
        ".gitignore  (13 B)",
        "README.md  (9 B)",
        "empty/",
        "shortcut.ts -> src/new.ts",
        "src/",
        "  deep/",
        "  new.ts  (2 B)",
        "  old.ts  (1 B)",
        "  view.tsx  (1 B)",
      ].join("\n"),
    );
    expect(result.summary).toBe("9 entries");
  });

  test("ignore globs, depth and subdirectories", async () => {
    const result = await ls({ path: "src", ignore: ["*.tsx", "deep"], depth: 1 });
    expect(result.content).toBe(`${repo}/src/\nnew.ts  (2 B)\nold.ts  (1 B)`);
    expect((await ls({ path: "empty" })).content).toBe(`${repo}/empty/\n(empty)`);
  });

  test("files, missing paths and paths outside are errors", async () => {
    expect((await ls({ path: "README.md" })).content).toContain("is a file, not a directory");
    expect((await ls({ path: "missing" })).content).toContain("missing does not exist");
    expect((await ls({ path: ".." })).content).toContain("outside the workspace");
  });
});
