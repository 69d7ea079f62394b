/**
 * Builds a3s's microVM guest kernel into this machine's cache (~/.a3s/kernel/<key>/vmlinux) from a
 * Linux source tree or tarball (Debian's linux-source-6.1 by default). A build that exists is reused.
 *   bun scripts/build-kernel.ts [source]
 */
import { buildKernel } from "../src/box/microvm/kernel.ts";
import { pathsFor, resolveHome } from "../src/core/paths.ts";

const started = performance.now();
const kernel = await buildKernel(pathsFor(resolveHome(process.env)), {
  ...(process.argv[2] ? { source: process.argv[2] } : {}),
  onLine: (line) => console.error(line),
});
console.log(kernel);
console.error(`guest kernel ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
