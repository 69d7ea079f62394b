/** Power check: llama.cpp loads through node-llama-cpp (its prebuilt binary for this platform). */
import { getLlamaBackend } from "../power/engine/llama.ts";
import { physicalCores } from "../power/engine/threads.ts";
import { type Check, reporter } from "./check.ts";

export async function checkPower(): Promise<Check> {
  const report = reporter("power", "node-llama-cpp");
  try {
    const llama = await getLlamaBackend(() => {});
    const gpu = llama.gpu === false ? "cpu" : llama.gpu;
    return report(
      "ok",
      `llama.cpp ${llama.buildType} build (${gpu}), ${physicalCores()} threads by default`,
      {
        gpu,
        buildType: llama.buildType,
        threads: physicalCores(),
      },
    );
  } catch (err) {
    return report("error", `llama.cpp cannot be loaded: ${(err as Error).message}`);
  }
}
