/**
 * Request conventions shared by Ollama's inference and model-management routes: the NDJSON content
 * type of their streamed replies and the `model` field every request names (or `name`, from older
 * clients). Its own module so the two route modules import it without importing each other.
 */
import { z } from "zod";

export const NDJSON = "application/x-ndjson";

/** `model` is the field today; `name` is what older clients send. */
function nameAsModel(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const body = value as Record<string, unknown>;
  return body.model ? body : { ...body, model: body.name };
}

/** A request schema with a required `model` (accepted as `name` too) plus the route's own fields. */
export const named = <T extends z.ZodRawShape>(shape: T) =>
  z.preprocess(
    nameAsModel,
    z.object({ model: z.string({ error: "model is required" }).min(1, "model is required"), ...shape }),
  );
