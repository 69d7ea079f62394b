/**
 * Builds a3s-init, the static PID 1 of a3s microVMs (native/init), with its Makefile.
 *   bun scripts/build-init.ts [outDir]   → <outDir>/init (default dist/native/init)
 * The guest runs the host's architecture, so init is built for this machine; it needs make and a
 * C compiler (musl-gcc when installed, otherwise gcc with a static glibc).
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..");
const INIT_SOURCES = join(ROOT, "native", "init");

/** Builds init into `outDir` and returns the path of the binary. */
export async function buildInit(outDir: string): Promise<string> {
  if (process.platform !== "linux") throw new Error("a3s-init is a Linux program: build it on Linux");
  if (!Bun.which("make"))
    throw new Error("building a3s-init needs make and a C compiler (apt-get install build-essential)");
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, "init");
  const make = Bun.spawn(["make", "--no-print-directory", "-C", INIT_SOURCES, `OUT=${binary}`], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(make.stdout).text(),
    new Response(make.stderr).text(),
    make.exited,
  ]);
  if (exitCode !== 0) throw new Error(`building a3s-init failed:\n${stdout}${stderr}`);
  return binary;
}

if (import.meta.main) {
  const binary = await buildInit(process.argv[2] ?? join(ROOT, "dist", "native"));
  console.log(`${binary} (${Bun.file(binary).size} bytes)`);
}
