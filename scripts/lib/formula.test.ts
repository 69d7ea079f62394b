import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_BASE_URL, formulaArchives, renderFormula } from "./formula.ts";

const VERSION = "1.2.3";
const SHA256 = Object.fromEntries(
  formulaArchives(VERSION).map((archive, i) => [archive, String(i + 1).repeat(64)]),
);

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  expect(from).toBeGreaterThanOrEqual(0);
  return text.slice(from, text.indexOf(end, from + start.length) + end.length);
}

test("the formula downloads the four unix archives", () => {
  expect(formulaArchives(VERSION)).toEqual([
    "a3s-1.2.3-darwin-arm64.tar.gz",
    "a3s-1.2.3-darwin-x64.tar.gz",
    "a3s-1.2.3-linux-arm64.tar.gz",
    "a3s-1.2.3-linux-x64.tar.gz",
  ]);
});

test("renderFormula writes the class header and metadata", () => {
  const formula = renderFormula(VERSION, DEFAULT_BASE_URL, SHA256);
  expect(formula).toContain("class A3s < Formula\n");
  expect(formula).toMatch(/^ {2}desc "[^"]{1,80}"$/m);
  expect(formula).toContain('  homepage "https://github.com/a3s-lab/a3s"\n');
  expect(formula).toContain('  version "1.2.3"\n');
  expect(formula).toContain('  license "MIT"\n');
});

test("each OS and CPU block pins its own archive and checksum", () => {
  const formula = renderFormula(VERSION, DEFAULT_BASE_URL, SHA256);
  const base = "https://github.com/a3s-lab/a3s/releases/download/v1.2.3";
  const cases = [
    ["on_macos", "on_arm", "darwin-arm64", "1"],
    ["on_macos", "on_intel", "darwin-x64", "2"],
    ["on_linux", "on_arm", "linux-arm64", "3"],
    ["on_linux", "on_intel", "linux-x64", "4"],
  ] as const;
  for (const [os, cpu, platform, digit] of cases) {
    const block = between(between(formula, `  ${os} do\n`, "\n  end\n"), `    ${cpu} do\n`, "\n    end");
    expect(block).toContain(`      url "${base}/a3s-1.2.3-${platform}.tar.gz"\n`);
    expect(block).toContain(`      sha256 "${digit.repeat(64)}"\n`);
  }
});

test("install puts the binary, the completion scripts and the microVM assets in place; the test runs the binary", () => {
  const formula = renderFormula(VERSION, DEFAULT_BASE_URL, SHA256);
  expect(between(formula, "  def install\n", "\n  end\n")).toBe(`  def install
    bin.install "a3s"
    bash_completion.install "completions/a3s.bash" => "a3s"
    zsh_completion.install "completions/_a3s"
    fish_completion.install "completions/a3s.fish"
    # The microVM guest kernel and init, where the a3s binary looks for them (../share/a3s).
    (share/"a3s").install Dir["share/a3s/*"]
  end
`);
  expect(between(formula, "  test do\n", "\n  end\n")).toContain(
    'assert_match version.to_s, shell_output("#{bin}/a3s version --json")',
  );
  expect(formula.endsWith("end\n")).toBe(true);
});

test("a custom base URL is used without its trailing slash", () => {
  const formula = renderFormula(VERSION, "https://mirror.example.com/a3s/", SHA256);
  expect(formula).toContain('url "https://mirror.example.com/a3s/v1.2.3/a3s-1.2.3-linux-x64.tar.gz"');
});

test("renderFormula refuses missing checksums and values that would break the Ruby code", () => {
  const { "a3s-1.2.3-linux-x64.tar.gz": _, ...partial } = SHA256;
  expect(() => renderFormula(VERSION, DEFAULT_BASE_URL, partial)).toThrow(
    "no sha256 for a3s-1.2.3-linux-x64.tar.gz",
  );
  expect(() =>
    renderFormula(VERSION, DEFAULT_BASE_URL, { ...SHA256, "a3s-1.2.3-darwin-x64.tar.gz": "ABC" }),
  ).toThrow("invalid sha256");
  expect(() => renderFormula('1.2.3"', DEFAULT_BASE_URL, SHA256)).toThrow("invalid version");
  expect(() => renderFormula(VERSION, "https://x/#{system}", SHA256)).toThrow("invalid base URL");
});

// Ruby is optional here: CI machines without it still check the structure above.
test.if(Bun.which("ruby") !== null)("the formula is valid Ruby (ruby -c)", () => {
  const dir = mkdtempSync(join(tmpdir(), "a3s-formula-"));
  try {
    const file = join(dir, "a3s.rb");
    writeFileSync(file, renderFormula(VERSION, DEFAULT_BASE_URL, SHA256));
    const result = Bun.spawnSync(["ruby", "-c", file]);
    expect(result.stderr.toString()).toBe("");
    expect(result.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
