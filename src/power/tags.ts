/** Ollama's /api/tags entry for a local model (also `power list --json`). */
import { displayName } from "./name.ts";
import type { ModelDetails, ModelRecord } from "./store.ts";

export interface TagsEntry {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: ModelDetails;
}

export function tagsEntry(record: ModelRecord, defaultHost: string): TagsEntry {
  const name = displayName(record.name, defaultHost);
  return {
    name,
    model: name,
    modified_at: record.modifiedAt,
    size: record.size,
    digest: record.digest.replace(/^sha256:/, ""),
    details: record.details,
  };
}
