/**
 * node-llama-cpp inside a compiled a3s. A `bun build --compile` binary never looks packages up on
 * disk, and node-llama-cpp finds its metadata and llama.cpp binaries relative to its own files
 * (`import.meta.url`) and through its `@node-llama-cpp/<platform>` packages. So the build:
 *  - bundles node-llama-cpp's JavaScript, with every `import.meta.url` rewritten to the same path
 *    inside an assets directory that a3s resolves at run time (globalThis.A3S_LLAMA_ASSETS_URL);
 *  - turns each `@node-llama-cpp/<platform>` import into a small module that points at that
 *    platform's binaries in the assets directory, or fails (as a missing package does) when the
 *    target does not ship them;
 *  - copies the assets (package.json, llama/ metadata and grammars, the platform's bins) next to the
 *    binary, in share/a3s/node-llama-cpp/.
 * The binary self-test node-llama-cpp forks before loading a prebuilt binary re-runs a3s itself with
 * TEST_BINDING_CP=true; cli/main.ts routes that to the test's child side.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import type { BunPlugin } from "bun";

const ROOT = join(import.meta.dir, "..", "..");
const PACKAGE_DIR = join(ROOT, "node_modules", "node-llama-cpp");
const VERSION: string = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")).version;

/** The prebuilt binary package each release target ships (CPU builds; Metal on Apple silicon). */
const PLATFORM_PACKAGES: Record<string, string> = {
  "linux-x64": "linux-x64",
  "linux-arm64": "linux-arm64",
  "darwin-x64": "mac-x64",
  "darwin-arm64": "mac-arm64-metal",
  "windows-x64": "win-x64",
};

/** The package this target ships, or undefined when it is not installed on the building machine. */
export function llamaPlatformPackage(os: string, arch: string): string | undefined {
  const name = PLATFORM_PACKAGES[`${os}-${arch}`];
  if (!name) return undefined;
  return existsSync(join(ROOT, "node_modules", "@node-llama-cpp", name, "bins")) ? name : undefined;
}

export function llamaAssetsPlugin(platformPackage: string | undefined): BunPlugin {
  return {
    name: "a3s-node-llama-cpp-assets",
    setup(build) {
      build.onLoad({ filter: /node_modules\/node-llama-cpp\/dist\/.*\.js$/ }, (args) => {
        const source = readFileSync(args.path, "utf8");
        if (!source.includes("import.meta.url")) return { contents: source, loader: "js" };
        const inPackage = relative(PACKAGE_DIR, args.path);
        const url = `(globalThis.A3S_LLAMA_ASSETS_URL + ${JSON.stringify(inPackage)})`;
        return { contents: source.replaceAll("import.meta.url", url), loader: "js" };
      });
      build.onResolve({ filter: /^@node-llama-cpp\// }, (args) => ({
        path: args.path.slice("@node-llama-cpp/".length),
        namespace: "a3s-llama-platform",
      }));
      build.onLoad({ filter: /.*/, namespace: "a3s-llama-platform" }, (args) => {
        if (args.path !== platformPackage) {
          return {
            contents: `throw new Error("@node-llama-cpp/${args.path} is not part of this a3s build");`,
            loader: "js",
          };
        }
        const binsDir = `globalThis.A3S_LLAMA_ASSETS_DIR + "/prebuilt/${args.path}/bins"`;
        return {
          contents: `export function getBinsDir() { return { binsDir: ${binsDir}, packageVersion: ${JSON.stringify(VERSION)} }; }`,
          loader: "js",
        };
      });
    },
  };
}

/** Writes the assets node-llama-cpp reads at run time into `dir` (share/a3s/node-llama-cpp). */
export function copyLlamaAssets(dir: string, platformPackage: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "llama"), { recursive: true });
  cpSync(join(PACKAGE_DIR, "package.json"), join(dir, "package.json"));
  // Metadata and GBNF grammars only: the llama.cpp sources (a 34 MB git bundle) serve local builds,
  // which a3s never runs.
  for (const file of ["package.json", "binariesGithubRelease.json", "llama.cpp.info.json", "grammars"]) {
    cpSync(join(PACKAGE_DIR, "llama", file), join(dir, "llama", file), { recursive: true });
  }
  const source = join(ROOT, "node_modules", "@node-llama-cpp", platformPackage);
  const target = join(dir, "prebuilt", platformPackage);
  mkdirSync(target, { recursive: true });
  cpSync(join(source, "package.json"), join(target, "package.json"));
  cpSync(join(source, "bins"), join(target, "bins"), { recursive: true });
}
