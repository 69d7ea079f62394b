/**
 * Ollama's model-management routes: pull and push (status messages as NDJSON), show, create (JSON
 * fields or a whole Modelfile), copy, delete, tags and the blob uploads `ollama create` makes first.
 * The inference routes in ollama.ts hand these out under the same route object.
 */
import { z } from "zod";
import { A3sError } from "../../core/errors.ts";
import { checkCreateSource, createModel } from "../create.ts";
import { type Modelfile, parseModelfile, parseParameter } from "../modelfile.ts";
import { parseModelName } from "../name.ts";
import { pullModel } from "../pull.ts";
import { pushModel } from "../push.ts";
import { showModel } from "../show.ts";
import { digestHex } from "../store.ts";
import { tagsEntry } from "../tags.ts";
import { json, messageOf, readBody, streamed } from "./http.ts";
import { NDJSON, named } from "./ollama-schema.ts";
import type { ServerContext } from "./server.ts";

const ShowSchema = named({ verbose: z.boolean().optional() });
/** /api/pull and /api/push take the same fields. */
const TransferSchema = named({ insecure: z.boolean().optional(), stream: z.boolean().default(true) });
const ModelOnlySchema = named({});
const CreateSchema = named({
  from: z.string().optional(),
  files: z.record(z.string(), z.string()).optional(),
  adapters: z.record(z.string(), z.string()).optional(),
  template: z.string().optional(),
  system: z.string().optional(),
  license: z.union([z.string(), z.array(z.string())]).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  messages: z
    .array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() }))
    .optional(),
  /** The pre-0.5 API: the whole Modelfile as text. */
  modelfile: z.string().optional(),
  quantize: z.string().optional(),
  stream: z.boolean().default(true),
});

const CopySchema = z.object({ source: z.string().min(1), destination: z.string().min(1) });

export function ollamaModelRoutes(ctx: ServerContext) {
  const { engine, power } = ctx;

  /** /api/pull and /api/push: Ollama's status messages as NDJSON, or one {"status":"success"}. */
  function transfer(operation: typeof pullModel | typeof pushModel) {
    return async (request: Request): Promise<Response> => {
      const body = await readBody(request, TransferSchema);
      const run = (signal: AbortSignal, onEvent?: (event: object) => void) =>
        operation(power, { name: body.model, insecure: body.insecure === true, signal, onEvent }).then(() =>
          engine.invalidate(),
        );
      if (!body.stream) {
        await run(request.signal);
        return json({ status: "success" });
      }
      return streamed(
        request,
        NDJSON,
        async ({ write, signal }) => {
          await run(signal, (event) => write(`${JSON.stringify(event)}\n`));
        },
        (err) => `${JSON.stringify({ error: messageOf(err) })}\n`,
      );
    };
  }

  async function show(request: Request): Promise<Response> {
    const body = await readBody(request, ShowSchema);
    return json((await showModel(power, body.model, { verbose: body.verbose === true })).show);
  }

  async function create(request: Request): Promise<Response> {
    const body = await readBody(request, CreateSchema);
    if (body.quantize)
      throw new A3sError("usage", "quantize is not supported: create from an already quantized GGUF");
    const modelfile = body.modelfile ? parseModelfile(body.modelfile) : modelfileOf(body);
    // A missing base model is a 404 before any status is streamed.
    checkCreateSource(power, modelfile.from[0] ?? "", process.cwd());
    const run = (onEvent?: (event: object) => void) =>
      createModel(power, { name: body.model, modelfile, baseDir: process.cwd(), onEvent }).then(() =>
        engine.invalidate(),
      );
    if (!body.stream) {
      await run();
      return json({ status: "success" });
    }
    return streamed(
      request,
      NDJSON,
      async ({ write }) => run((event) => write(`${JSON.stringify(event)}\n`)),
      (err) => `${JSON.stringify({ error: messageOf(err) })}\n`,
    );
  }

  async function copy(request: Request): Promise<Response> {
    const body = await readBody(request, CopySchema);
    const host = power.registry.host;
    power.store.copy(parseModelName(body.source, host), parseModelName(body.destination, host), body.source);
    engine.invalidate();
    return new Response(null, { status: 200 });
  }

  async function remove(request: Request): Promise<Response> {
    const body = await readBody(request, ModelOnlySchema);
    const name = parseModelName(body.model, power.registry.host);
    await engine.unload(body.model);
    power.store.remove(name, body.model);
    engine.invalidate();
    return new Response(null, { status: 200 });
  }

  function tags(): Response {
    return json({ models: power.store.list().map((record) => tagsEntry(record, power.registry.host)) });
  }

  function headBlob(digest: string): Response {
    return new Response(null, { status: power.store.hasBlob(checkedDigest(digest)) ? 200 : 404 });
  }

  async function postBlob(digest: string, request: Request): Promise<Response> {
    const checked = checkedDigest(digest);
    if (power.store.hasBlob(checked)) return new Response(null, { status: 201 });
    await power.store.putBlobStream(checked, request.body);
    return new Response(null, { status: 201 });
  }

  return {
    pull: transfer(pullModel),
    push: transfer(pushModel),
    show,
    create,
    copy,
    remove,
    tags,
    headBlob,
    postBlob,
  };
}

/** The JSON form of /api/create as a Modelfile: FROM a model or the uploaded GGUF in `files`. */
function modelfileOf(body: z.infer<typeof CreateSchema>): Omit<Modelfile, "deprecated"> {
  const gguf =
    Object.entries(body.files ?? {}).find(([file]) => file.endsWith(".gguf")) ??
    Object.entries(body.files ?? {})[0];
  const from = gguf?.[1] ?? body.from;
  if (!from) throw new A3sError("usage", "neither 'from' nor 'files' was given");
  const parameters: Modelfile["parameters"] = {};
  for (const [key, value] of Object.entries(body.parameters ?? {})) {
    if (key === "stop") parameters.stop = (Array.isArray(value) ? value : [value]).map(String);
    else parameters[key] = parseParameter(key, String(value)) as number | boolean;
  }
  return {
    from: [from],
    adapters: Object.values(body.adapters ?? {}),
    template: body.template,
    system: body.system,
    parameters,
    licenses:
      body.license === undefined ? [] : typeof body.license === "string" ? [body.license] : body.license,
    messages: body.messages ?? [],
  };
}

/** Ollama takes a blob digest as `sha256:<hex>` or `sha256-<hex>`; a malformed one is a 400. */
function checkedDigest(digest: string): string {
  const normalized = digest.replace(/^sha256-/, "sha256:");
  digestHex(normalized);
  return normalized;
}
