/** Power check: local inference runs on node-llama-cpp, which a3s does not depend on yet. */
import { type Check, reporter } from "./check.ts";

// A variable, so neither tsc nor the bundler insists on resolving a package that may be absent.
const NODE_LLAMA_CPP = "node-llama-cpp";

export async function checkPower(): Promise<Check> {
  const report = reporter("power", "node-llama-cpp");
  try {
    await import(NODE_LLAMA_CPP);
    return report("ok", "node-llama-cpp is installed");
  } catch {
    return report("warn", "node-llama-cpp not installed (power is not built yet)");
  }
}
