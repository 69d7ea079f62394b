/**
 * `power create` and POST /api/create: a model from a Modelfile's parts. FROM is a GGUF file (copied
 * into the store, its header checked), a blob already uploaded (sha256:…), or a local model whose
 * layers are reused; TEMPLATE, SYSTEM, PARAMETER, LICENSE, MESSAGE and ADAPTER add or replace layers,
 * as Ollama's create does. Layers are content-addressed, so unchanged parts are shared.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { A3sError } from "../core/errors.ts";
import { logger } from "../core/log.ts";
import type { PowerContext } from "./context.ts";
import { readGgufFile } from "./gguf.ts";
import {
  CONFIG_MEDIA_TYPE,
  type Descriptor,
  LAYER_MEDIA,
  type LayerKind,
  MANIFEST_MEDIA_TYPE,
  parseModelConfig,
} from "./manifest.ts";
import type { Modelfile } from "./modelfile.ts";
import { displayName, parseModelName } from "./name.ts";
import { fileTypeName, modelDetails, readParams } from "./show.ts";
import { sha256Digest } from "./store.ts";

const log = logger("power.create");

export interface CreateEvent {
  status: string;
}

export interface CreateOptions {
  name: string;
  modelfile: Omit<Modelfile, "deprecated">;
  /** Where relative FROM/ADAPTER paths are resolved (the Modelfile's directory). */
  baseDir: string;
  onEvent?: (event: CreateEvent) => void;
}

const encoder = new TextEncoder();

export async function createModel(
  power: PowerContext,
  options: CreateOptions,
): Promise<{ name: string; digest: string }> {
  const { store } = power;
  const emit = (status: string) => options.onEvent?.({ status });
  const { modelfile } = options;
  const name = parseModelName(options.name, power.registry.host);
  const from = modelfile.from[0];
  if (!from) throw new A3sError("usage", "no FROM line in the Modelfile");
  emit("gathering model components");

  let layers: Descriptor[] = [];
  let baseParams: Record<string, unknown> = {};
  let config: Record<string, unknown> = { model_format: "gguf" };
  const source = checkCreateSource(power, from, options.baseDir);
  if (source.kind === "blob") {
    layers.push(await weightsLayer(power, source.digest, LAYER_MEDIA.model, emit));
  } else if (source.kind === "file") {
    layers.push(await importFile(power, source.path, LAYER_MEDIA.model, emit));
  } else {
    const base = source.record;
    const manifest = store.readManifest(base);
    layers = [...manifest.layers];
    baseParams = readParams(store, manifest);
    if (store.hasBlob(manifest.config.digest)) {
      const { rootfs: _rootfs, ...rest } = parseModelConfig(store.readBlob(manifest.config.digest));
      config = { ...rest, parent_model: displayName(base.name, power.registry.host) };
    }
    emit(`using existing layers of ${from}`);
  }

  for (const adapter of modelfile.adapters) {
    const path = resolvePath(options.baseDir, adapter);
    if (!existsSync(path)) throw new A3sError("not_found", `ADAPTER ${adapter}: no such file`);
    layers = replaceKind(layers, "adapter", await importFile(power, path, LAYER_MEDIA.adapter, emit));
  }
  const text = (kind: LayerKind, value: string) => {
    const bytes = encoder.encode(value);
    const digest = sha256Digest(bytes);
    store.putBlob(digest, bytes);
    emit(`creating ${kind} layer`);
    return { mediaType: LAYER_MEDIA[kind], digest, size: bytes.length };
  };
  if (modelfile.template !== undefined)
    layers = replaceKind(layers, "template", text("template", modelfile.template));
  if (modelfile.system !== undefined)
    layers = replaceKind(layers, "system", text("system", modelfile.system));
  if (Object.keys(modelfile.parameters).length > 0) {
    const params = { ...baseParams, ...modelfile.parameters };
    layers = replaceKind(layers, "params", text("params", JSON.stringify(params)));
  }
  if (modelfile.licenses.length > 0) {
    layers = layers.filter((layer) => layer.mediaType !== LAYER_MEDIA.license);
    for (const license of modelfile.licenses) layers.push(text("license", license));
  }
  if (modelfile.messages.length > 0) {
    layers = replaceKind(layers, "messages", text("messages", JSON.stringify(modelfile.messages)));
  }

  const weights = layers.find((layer) => layer.mediaType === LAYER_MEDIA.model);
  const header = weights
    ? await readGgufFile(store.blobPath(weights.digest)).catch(() => undefined)
    : undefined;
  const architecture = header?.metadata.get("general.architecture");
  if (typeof architecture === "string") {
    config.model_family ??= architecture;
    config.model_families ??= [architecture];
  }
  config.file_type ??= header ? fileTypeName(header.metadata.get("general.file_type")) : undefined;
  const configBytes = encoder.encode(
    JSON.stringify({
      ...config,
      os: "linux",
      architecture: "amd64",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const configDigest = sha256Digest(configBytes);
  store.putBlob(configDigest, configBytes);
  emit("writing manifest");
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    config: { mediaType: CONFIG_MEDIA_TYPE, digest: configDigest, size: configBytes.length },
    layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  };
  const record = store.save(
    name,
    encoder.encode(JSON.stringify(manifest)),
    modelDetails(parseModelConfig(configBytes), header),
  );
  emit("success");
  log.info(`created ${displayName(name, power.registry.host)} (${record.digest})`);
  return { name: displayName(name, power.registry.host), digest: record.digest };
}

type CreateSource =
  | { kind: "blob"; digest: string }
  | { kind: "file"; path: string }
  | { kind: "model"; record: NonNullable<ReturnType<PowerContext["store"]["get"]>> };

/** What FROM names: an uploaded blob, a GGUF file, or a local model; missing ones are not_found. */
export function checkCreateSource(power: PowerContext, from: string, baseDir: string): CreateSource {
  if (/^sha256[:-][a-f0-9]{64}$/.test(from)) {
    const digest = from.replace("sha256-", "sha256:");
    if (!power.store.hasBlob(digest)) {
      throw new A3sError("not_found", `blob ${digest} not found; upload it first (POST /api/blobs)`);
    }
    return { kind: "blob", digest };
  }
  if (isAbsolute(from) || from.startsWith(".") || from.startsWith("~")) {
    const path = resolvePath(baseDir, from);
    if (!existsSync(path)) throw new A3sError("not_found", `FROM ${from}: no such file`);
    return { kind: "file", path };
  }
  const record = power.store.get(parseModelName(from, power.registry.host));
  if (!record) {
    throw new A3sError("not_found", `FROM ${from}: model not found`, {
      hint: `pull it first: a3s power pull ${from}`,
    });
  }
  return { kind: "model", record };
}

function resolvePath(baseDir: string, path: string): string {
  if (path.startsWith("~/")) return join(process.env.HOME ?? "", path.slice(2));
  return resolve(baseDir, path);
}

function replaceKind(layers: Descriptor[], kind: LayerKind, layer: Descriptor): Descriptor[] {
  return [...layers.filter((l) => l.mediaType !== LAYER_MEDIA[kind]), layer];
}

/** A stored blob as a weights layer, after checking it is a GGUF file. */
async function weightsLayer(
  power: PowerContext,
  digest: string,
  mediaType: string,
  emit: (status: string) => void,
): Promise<Descriptor> {
  emit("parsing GGUF");
  try {
    await readGgufFile(power.store.blobPath(digest));
  } catch (err) {
    throw new A3sError("usage", `${digest} is not a GGUF model: ${(err as Error).message}`);
  }
  return { mediaType, digest, size: power.store.blobSize(digest) };
}

/** Copies a local GGUF into the store, hashed while copied, then renamed to its digest. */
async function importFile(
  power: PowerContext,
  path: string,
  mediaType: string,
  emit: (status: string) => void,
): Promise<Descriptor> {
  if (!statSync(path).isFile()) throw new A3sError("usage", `${path} is not a file`);
  try {
    await readGgufFile(path);
  } catch (err) {
    throw new A3sError("usage", `${path} is not a GGUF model: ${(err as Error).message}`);
  }
  mkdirSync(power.store.blobsDir, { recursive: true });
  const temp = join(power.store.blobsDir, `.create-${process.pid}-${Date.now()}`);
  try {
    const hash = createHash("sha256");
    const writer = Bun.file(temp).writer();
    let size = 0;
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      writer.write(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    await writer.end();
    const digest = `sha256:${hash.digest("hex")}`;
    if (power.store.hasBlob(digest)) {
      emit(`using existing layer ${digest}`);
    } else {
      emit(`copying file ${digest} 100%`);
      renameSync(temp, power.store.blobPath(digest));
    }
    return { mediaType, digest, size };
  } finally {
    rmSync(temp, { force: true });
  }
}
