/**
 * What the model is told about a tool (name, description, JSON Schema derived from its zod input)
 * and how its raw arguments are checked before the tool runs.
 */
import { z } from "zod";
import type { Tool, ToolSpec } from "../types.ts";

export function toolSpec(tool: Tool): ToolSpec {
  return {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema ?? jsonSchema(tool),
  };
}

function jsonSchema(tool: Tool): Record<string, unknown> {
  // Draft 7 is what every provider accepts; "input" keeps fields with defaults optional.
  const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.input, { io: "input", target: "draft-7" });
  if (schema.type === "object" && schema.additionalProperties === undefined)
    schema.additionalProperties = false;
  return schema;
}

export type Validated<Input> = { ok: true; input: Input } | { ok: false; error: string };

/** Parses a tool call's arguments; the error names every bad field so the model can retry. */
export function validateInput<Input>(tool: Tool<Input>, raw: unknown): Validated<Input> {
  const parsed = tool.input.safeParse(raw);
  if (parsed.success) return { ok: true, input: parsed.data };
  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join(".") : "input";
    return `- ${where}: ${issueMessage(issue)}`;
  });
  return { ok: false, error: `Invalid arguments for ${tool.name}:\n${problems.join("\n")}` };
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.message.includes("received undefined")) return "required";
  if (issue.code === "unrecognized_keys") return `unknown field(s) ${issue.keys.join(", ")}`;
  return issue.message.replace(/^Invalid input: /, "");
}
