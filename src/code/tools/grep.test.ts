import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createGrepTool } from "./grep.ts";
import { type GrepQuery, grepWithJs, grepWithRipgrep, hasRipgrep, searchFiles } from "./grep-engines.ts";
import { tempDir, toolContext, writeTree } from "./testing.ts";

const repo = tempDir();
execFileSync("git", ["init", "-q"], { cwd: repo });
writeTree(repo, {
  ".gitignore": "dist/\n*.log\n!keep.log\nnode_modules\n/rootonly.txt\n",
  "src/a.ts": "export function alpha() {}\nconst x = 1;\n// TODO: ALPHA again\nconst y = 2;\n",
  "src/b.tsx": "function Beta() { return null }\n",
  "src/nested/.gitignore": "secret.ts\n",
  "src/nested/secret.ts": "function hidden() {}\n",
  "src/nested/ok.ts": "function nested() {}\n",
  "dist/out.js": "function alpha() {}\n",
  "debug.log": "function log() {}\n",
  "keep.log": "function kept() {}\n",
  "node_modules/pkg/index.js": "function dep() {}\n",
  "rootonly.txt": "function root() {}\n",
  "sub/rootonly.txt": "function notroot() {}\n",
  ".hidden/conf.ts": "function hiddenDir() {}\n",
  "crlf.txt": "function crlf() {}\r\nplain\r\n",
});
writeFileSync(join(repo, "bin.dat"), "function\0binary\n");
symlinkSync(join(repo, "src/a.ts"), join(repo, "link.ts"));
const ctx = toolContext(repo);

function query(overrides: Partial<GrepQuery>): GrepQuery {
  return {
    pattern: "function",
    root: repo,
    cwd: repo,
    ignoreCase: false,
    context: 0,
    env: process.env,
    signal: new AbortController().signal,
    ...overrides,
  };
}

const relPaths = (hits: { path: string }[]) => hits.map((hit) => hit.path.slice(repo.length + 1));

describe("grep engines", () => {
  test("the JavaScript walker honours .gitignore: nested files, negations, directories, anchors", () => {
    expect(relPaths(grepWithJs(query({})))).toEqual([
      ".hidden/conf.ts",
      "crlf.txt",
      "keep.log",
      "src/a.ts",
      "src/b.tsx",
      "src/nested/ok.ts",
      "sub/rootonly.txt",
    ]);
  });

  test("outside a git repository .gitignore does not apply (as in git and ripgrep)", () => {
    const plain = tempDir();
    writeTree(plain, { ".gitignore": "*.log\n", "a.log": "needle\n", "b.txt": "needle\n" });
    const hits = grepWithJs(query({ root: plain, cwd: plain, pattern: "needle" }));
    expect(hits.map((hit) => hit.path)).toEqual([join(plain, "a.log"), join(plain, "b.txt")]);
  });

  const cases: Array<[string, Partial<GrepQuery>]> = [
    ["plain", {}],
    ["ignore case", { pattern: "alpha", ignoreCase: true }],
    ["name glob", { glob: "*.ts" }],
    ["path glob", { glob: "src/**/*.ts" }],
    ["brace glob", { glob: "*.{ts,tsx}" }],
    ["negated glob", { glob: "!*.ts" }],
    ["context", { pattern: "const", context: 1 }],
    ["overlapping context", { pattern: "^const", context: 2 }],
    ["subdirectory", { root: join(repo, "src") }],
    ["an ignored file named explicitly", { root: join(repo, "dist/out.js") }],
    ["anchors and CRLF", { pattern: "^plain$|crlf\\(\\) \\{\\}$" }],
    ["no match", { pattern: "zzz_nothing" }],
  ];

  for (const [name, overrides] of cases) {
    test.skipIf(!hasRipgrep(process.env))(`ripgrep and the walker agree: ${name}`, async () => {
      const js = grepWithJs(query(overrides));
      const rg = await grepWithRipgrep(query(overrides));
      expect(rg).toEqual(js);
    });
  }

  test("the walker's context lines", () => {
    const [hit] = grepWithJs(query({ pattern: "ALPHA", context: 1 }));
    expect(hit?.lines).toEqual([
      { number: 2, text: "const x = 1;", match: false },
      { number: 3, text: "// TODO: ALPHA again", match: true },
      { number: 4, text: "const y = 2;", match: false },
    ]);
  });

  test.skipIf(!hasRipgrep(process.env))("a pattern ripgrep rejects falls back to JavaScript", async () => {
    const lookahead = query({ pattern: "alpha(?=\\(\\))" });
    expect(await grepWithRipgrep(lookahead)).toBeUndefined();
    expect(relPaths(await searchFiles(lookahead))).toEqual(["src/a.ts"]);
  });
});

describe("grep tool", () => {
  const grep = createGrepTool("js");
  const run = (input: Record<string, unknown>) => grep.run(grep.input.parse(input), ctx);

  test("content mode prints path:line:text with -- between groups", async () => {
    const result = await run({ pattern: "const", output_mode: "content", path: "src", context: 0 });
    expect(result.content).toBe("src/a.ts:2:const x = 1;\nsrc/a.ts:4:const y = 2;");
    const around = await run({ pattern: "alpha|Beta", output_mode: "content", context: 1, path: "src" });
    expect(around.content).toBe(
      "src/a.ts:1:export function alpha() {}\nsrc/a.ts-2-const x = 1;\n--\nsrc/b.tsx:1:function Beta() { return null }",
    );
  });

  test("files mode lists files newest first; count mode counts", async () => {
    const files = await run({ pattern: "function", path: "src" });
    expect(files.content.split("\n")[0]).toBe("Found 3 files:");
    expect(files.content.split("\n").slice(1).sort()).toEqual(["src/a.ts", "src/b.tsx", "src/nested/ok.ts"]);
    const count = await run({
      pattern: "const|alpha",
      output_mode: "count",
      case_insensitive: true,
      path: "src",
    });
    expect(count.content).toBe("4 matches in 1 file:\nsrc/a.ts:4");
  });

  test("head_limit cuts output and says so; no match is not an error", async () => {
    const result = await run({ pattern: "function", output_mode: "content", head_limit: 2 });
    expect(result.content.split("\n")).toHaveLength(3);
    expect(result.content).toEndWith("(… 5 more lines; narrow the search or raise head_limit)");
    const none = await run({ pattern: "zzz" });
    expect(none).toEqual({ content: "No matches found.", summary: "No matches" });
  });

  test("bad patterns, missing paths and paths outside are errors", async () => {
    expect((await run({ pattern: "(" })).content).toContain("invalid regular expression");
    expect((await run({ pattern: "x", path: "nope" })).content).toContain("nope does not exist");
    expect((await run({ pattern: "x", path: "/etc" })).content).toContain("outside the workspace");
  });
});
