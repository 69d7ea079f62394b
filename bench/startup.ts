/**
 * Startup cost of the compiled binary, side by side with a compiled hello-world (the floor Bun
 * allows) built and measured in the same run.
 *   bun bench/startup.ts [--runs 40]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 40;

function run(cmd: string[], cwd = ROOT): void {
  const result = Bun.spawnSync(cmd, { cwd, stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${result.stderr}`);
}

function measure(cmd: string[], env: Record<string, string>): { median: number; p90: number } {
  const samples: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const start = performance.now();
    const result = Bun.spawnSync(cmd, { env, stdout: "ignore", stderr: "ignore" });
    const elapsed = performance.now() - start;
    if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited ${result.exitCode}`);
    if (i >= 3) samples.push(elapsed); // the first runs warm the page cache
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { median: at(0.5), p90: at(0.9) };
}

run([process.execPath, "scripts/build.ts"]);
const scratch = mkdtempSync(join(tmpdir(), "a3s-bench-"));
writeFileSync(join(scratch, "hello.ts"), 'console.log("hello");\n');
run([process.execPath, "build", "--compile", "--minify", "hello.ts", "--outfile", "hello"], scratch);

const env = { ...process.env, A3S_HOME: join(scratch, "home") } as Record<string, string>;
const binary = join(ROOT, "dist", "a3s");
const cases: Array<[string, string[], number]> = [
  ["hello-world (bun --compile)", [join(scratch, "hello")], 0],
  ["a3s --version", [binary, "--version"], 20],
  ["a3s box --help", [binary, "box", "--help"], 40],
  ["a3s version --json", [binary, "version", "--json"], 0],
  ["a3s config get box.runtime", [binary, "config", "get", "box.runtime"], 0],
];

console.log(`startup, ${runs} runs each (ms)`);
console.log(`${"command".padEnd(32)}${"median".padStart(8)}${"p90".padStart(8)}${"target".padStart(9)}`);
let failed = false;
for (const [label, cmd, target] of cases) {
  const { median, p90 } = measure(cmd, env);
  const verdict = target === 0 ? "" : median < target ? `  < ${target} ok` : `  > ${target} MISSED`;
  if (target > 0 && median >= target) failed = true;
  console.log(`${label.padEnd(32)}${median.toFixed(1).padStart(8)}${p90.toFixed(1).padStart(8)}${verdict}`);
}
process.exitCode = failed ? 1 : 0;
