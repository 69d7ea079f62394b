import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectA3sError } from "../../tests/expect-error.ts";
import { writeGguf } from "../../tests/fixtures/gguf.ts";
import { type BuiltModel, buildModel } from "../../tests/fixtures/models.ts";
import { pathsFor } from "../core/paths.ts";
import { openPowerContext, type PowerContext } from "./context.ts";
import { formatName, parseModelName } from "./name.ts";
import type { ModelDetails } from "./store.ts";

const DETAILS: ModelDetails = {
  parent_model: "",
  format: "gguf",
  family: "llama",
  families: ["llama"],
  parameter_size: "1M",
  quantization_level: "F32",
};

function newPower(): PowerContext {
  return openPowerContext(pathsFor(mkdtempSync(join(tmpdir(), "a3s-store-"))), {});
}

/** Stores a model's blobs and manifest directly, as a finished pull would. */
function install(power: PowerContext, text: string, model: BuiltModel) {
  for (const blob of [...model.layers, model.config]) power.store.putBlob(blob.digest, blob.data);
  return power.store.save(parseModelName(text), model.manifestBytes, DETAILS);
}

const gguf = (seed: number) =>
  writeGguf({ layers: 1, width: 32, heads: 2, ffn: 64, contextLength: 64, vocab: "spm", seed });

describe("model store", () => {
  test("Ollama's layout: manifests by host/namespace/model/tag, blobs as sha256-<hex>", () => {
    const power = newPower();
    const model = buildModel({ gguf: gguf(1), template: "{{ .Prompt }}", license: "MIT" });
    const record = install(power, "tiny:1", model);
    const manifest = join(power.paths.models, "manifests/registry.ollama.ai/library/tiny/1");
    expect(new Uint8Array(readFileSync(manifest))).toEqual(new Uint8Array(model.manifestBytes));
    expect(record.digest).toBe(model.manifestDigest);
    expect(record.size).toBe(model.size);
    for (const blob of [...model.layers, model.config]) {
      expect(existsSync(join(power.paths.models, `blobs/sha256-${blob.digest.slice(7)}`))).toBe(true);
    }
    expect(power.store.list().map((r) => formatName(r.name))).toEqual(["registry.ollama.ai/library/tiny:1"]);
  });

  test("cp shares blobs; rm keeps a blob until its last user is gone", () => {
    const power = newPower();
    const weights = gguf(2);
    const a = buildModel({ gguf: weights, license: "A" });
    const b = buildModel({ gguf: weights, license: "B" });
    install(power, "tiny:a", a);
    install(power, "tiny:b", b);
    const copy = power.store.copy(parseModelName("tiny:a"), parseModelName("me/tiny:copy"), "tiny:a");
    expect(copy.digest).toBe(a.manifestDigest);
    expect(power.store.list()).toHaveLength(3);

    const shared = a.layers[0]!.digest;
    expect(b.layers[0]!.digest).toBe(shared);
    const ownOfA = a.layers[1]!.digest;

    // tiny:a goes, but its copy still uses every blob of it.
    expect(power.store.remove(parseModelName("tiny:a"), "tiny:a")).toEqual([]);
    expect(existsSync(join(power.paths.models, "manifests/registry.ollama.ai/library/tiny/a"))).toBe(false);
    expect(power.store.remove(parseModelName("me/tiny:copy"), "me/tiny:copy").sort()).toEqual(
      [ownOfA, a.config.digest].sort(),
    );
    expect(power.store.hasBlob(shared)).toBe(true);
    expect(power.store.hasBlob(ownOfA)).toBe(false);
    // The empty namespace directory went with it.
    expect(existsSync(join(power.paths.models, "manifests/registry.ollama.ai/me"))).toBe(false);

    expect(power.store.remove(parseModelName("tiny:b"), "tiny:b")).toContain(shared);
    expect(power.store.hasBlob(shared)).toBe(false);
    expect(power.store.list()).toEqual([]);
  });

  test("unknown names are not-found errors worded like Ollama's", () => {
    const power = newPower();
    expect(() => power.store.remove(parseModelName("nope"), "nope")).toThrow("model 'nope' not found");
    expect(() => power.store.copy(parseModelName("nope"), parseModelName("x"), "nope")).toThrow(/not found/);
  });

  test("a manifest is recorded only when its blobs are present", () => {
    const power = newPower();
    const model = buildModel({ gguf: gguf(4) });
    expect(() => power.store.save(parseModelName("tiny"), model.manifestBytes, DETAILS)).toThrow(/missing/);
    expect(power.store.list()).toEqual([]);
  });
});

test("a blob deleted behind the store's back is a not-found error naming it, not a crash", () => {
  const power = newPower();
  const bytes = new TextEncoder().encode("{{ .Prompt }}");
  const digest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
  power.store.putBlob(digest, bytes);
  rmSync(power.store.blobPath(digest));
  expectA3sError(() => power.store.readBlob(digest), "not_found", digest);
});
