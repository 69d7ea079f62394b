/**
 * What `a3s power serve` will actually give a model: the context it loads it with is the Modelfile's
 * num_ctx (power's default otherwise), capped at what the weights were trained for. Reading it from
 * /api/show beats the 8192 guess: compaction and the answer budget then fit what the server accepts,
 * and a model created with `PARAMETER num_ctx 32768` is used to the full.
 */
import type { Dispatcher } from "undici/index.js";
import { httpRequest, readJson } from "../../core/http.ts";
import { DEFAULT_OPTIONS } from "../../power/engine/options.ts";

interface ShowResponse {
  parameters?: string;
  model_info?: Record<string, unknown>;
}

export interface ContextProbeOptions {
  /** The server's own default num_ctx (power.contextLength), when the Modelfile sets none. */
  defaultNumCtx?: number;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/** undefined when the server cannot say (not running, unknown model): the caller keeps its default. */
export async function localContextWindow(
  baseUrl: string,
  model: string,
  options: ContextProbeOptions = {},
): Promise<number | undefined> {
  let show: ShowResponse;
  try {
    const response = await httpRequest(new URL("/api/show", baseUrl), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model }),
      timeoutMs: options.timeoutMs ?? 2000,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    if (response.status !== 200) {
      await response.body.dump();
      return undefined;
    }
    show = await readJson<ShowResponse>(response);
  } catch {
    return undefined;
  }
  const configured = /^num_ctx\s+(\d+)\s*$/m.exec(show.parameters ?? "")?.[1];
  const numCtx = configured ? Number(configured) : (options.defaultNumCtx ?? DEFAULT_OPTIONS.num_ctx);
  const info = show.model_info ?? {};
  const trained = info[`${info["general.architecture"]}.context_length`];
  return typeof trained === "number" && trained > 0 ? Math.min(numCtx, trained) : numCtx;
}
