/**
 * The child side of node-llama-cpp's binary self-test inside a compiled a3s. Before loading a
 * prebuilt llama.cpp binary, node-llama-cpp forks its own test module with TEST_BINDING_CP=true to
 * see whether the binary crashes this system; in a compiled binary that fork re-runs a3s, and
 * cli/main.ts sends it here. Importing the module installs its IPC handler, which loads the binary,
 * answers the parent and exits when told to.
 */
import { prepareBundledAssets } from "./llama.ts";

export async function runBindingSelfTest(): Promise<void> {
  prepareBundledAssets();
  await import("../../../node_modules/node-llama-cpp/dist/bindings/utils/testBindingBinary.js");
}
