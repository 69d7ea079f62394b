/**
 * Loads node-llama-cpp (lazily: it must never cost `--version` or `--help` anything) and the one
 * `Llama` instance a process uses. In a compiled a3s, node-llama-cpp's files and binaries live in
 * share/a3s/node-llama-cpp beside the executable (scripts/lib/llama-assets.ts explains why).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Llama } from "node-llama-cpp";
import { A3sError } from "../../core/errors.ts";

/** Defined by scripts/build.ts when node-llama-cpp is bundled into the executable. */
declare const A3S_LLAMA_BUNDLED: boolean | undefined;

type NodeLlamaCpp = typeof import("node-llama-cpp");

interface LlamaGlobals {
  A3S_LLAMA_ASSETS_DIR?: string;
  A3S_LLAMA_ASSETS_URL?: string;
}

export function isBundled(): boolean {
  return typeof A3S_LLAMA_BUNDLED === "boolean" && A3S_LLAMA_BUNDLED;
}

/** share/a3s/node-llama-cpp beside the binary (dist/, releases) or under <prefix>/share (Homebrew). */
export function findLlamaAssets(execPath: string = process.execPath): string | undefined {
  const execDir = dirname(execPath);
  const candidates = [
    join(execDir, "share", "a3s", "node-llama-cpp"),
    join(dirname(execDir), "share", "a3s", "node-llama-cpp"),
  ];
  return candidates.find((dir) => existsSync(join(dir, "package.json")));
}

/** Points the bundled node-llama-cpp at its assets; must run before its modules are evaluated. */
export function prepareBundledAssets(): void {
  if (!isBundled()) return;
  const dir = findLlamaAssets();
  if (!dir) {
    throw new A3sError("runtime", "llama.cpp binaries are missing from this a3s installation", {
      hint: `expected share/a3s/node-llama-cpp next to ${process.execPath}; reinstall a3s`,
    });
  }
  const globals = globalThis as LlamaGlobals;
  globals.A3S_LLAMA_ASSETS_DIR = dir;
  // Each bundled file's import.meta.url becomes this prefix plus its path inside the package.
  globals.A3S_LLAMA_ASSETS_URL = `${pathToFileURL(dir).href}/`;
}

let module: Promise<NodeLlamaCpp> | undefined;

export function importNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  module ??= (async () => {
    prepareBundledAssets();
    return import("node-llama-cpp");
  })();
  return module;
}

let llama: Promise<Llama> | undefined;

/** The process's llama.cpp backend: prebuilt binaries only (never a local build), logs to our logger. */
export function getLlamaBackend(onLog: (level: string, message: string) => void): Promise<Llama> {
  llama ??= (async () => {
    const { getLlama, LlamaLogLevel } = await importNodeLlamaCpp();
    try {
      return await getLlama({
        build: "never",
        gpu: "auto",
        logLevel: LlamaLogLevel.warn,
        logger: (level, message) => onLog(String(level), message.trimEnd()),
      });
    } catch (error) {
      llama = undefined;
      throw new A3sError("runtime", `cannot load llama.cpp: ${(error as Error).message}`);
    }
  })();
  return llama;
}
