import { describe, expect, test } from "bun:test";
import { z } from "zod";
import type { Tool } from "../types.ts";
import { bashTool } from "./bash.ts";
import { builtinTools, readOnlyToolNames, toolSpec, validateInput } from "./index.ts";
import { defineTool } from "./tool.ts";

type Schema = { type?: string; description?: string; properties?: Record<string, Schema>; items?: Schema };

/** Every field, nested ones too, with the path that names it. */
function fields(schema: Schema, path: string): Array<[string, Schema]> {
  const own = Object.entries(schema.properties ?? {}).flatMap(
    ([name, field]): Array<[string, Schema]> => [
      [`${path}.${name}`, field],
      ...fields(field, `${path}.${name}`),
    ],
  );
  return schema.items ? [...own, ...fields(schema.items, `${path}[]`)] : own;
}

describe("toolSpec", () => {
  test("every built-in tool has a unique name, a description and a described object schema", () => {
    const tools = builtinTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      "bash",
      "read",
      "write",
      "edit",
      "patch",
      "grep",
      "glob",
      "ls",
      "web_fetch",
      "web_search",
      "todo",
      "task",
      "cron",
    ]);
    for (const tool of tools) {
      const spec = toolSpec(tool);
      expect(spec.name).toBe(tool.name);
      expect(spec.description.length).toBeGreaterThan(80);
      expect(spec.inputSchema.type).toBe("object");
      expect(spec.inputSchema.additionalProperties).toBe(false);
      expect(spec.inputSchema.$schema).toBeUndefined();
      const undocumented = fields(spec.inputSchema as Schema, tool.name).filter(
        ([path, field]) => !field.description && !path.endsWith("[]"),
      );
      expect(undocumented.map(([path]) => path)).toEqual([]);
    }
  });

  test("fields with defaults are optional for the model", () => {
    const edit = toolSpec(builtinTools().find((tool) => tool.name === "edit")!);
    expect(edit.inputSchema.required).toEqual(["file_path", "old_string", "new_string"]);
  });

  test("an MCP tool's own schema is passed through", () => {
    const schema = { type: "object", properties: { q: { type: "string" } } };
    const mcp: Tool = defineTool({
      name: "mcp__search__query",
      ruleName: "mcp__search__query",
      description: "Searches.",
      input: z.record(z.string(), z.unknown()),
      inputSchema: schema,
      readOnly: false,
      ruleSubject: () => undefined,
      run: async () => ({ content: "" }),
    });
    expect(toolSpec(mcp).inputSchema).toBe(schema);
  });

  test("read-only tools", () => {
    expect(readOnlyToolNames()).toEqual([
      "read",
      "grep",
      "glob",
      "ls",
      "web_fetch",
      "web_search",
      "todo",
      "task",
    ]);
  });
});

describe("validateInput", () => {
  test("valid input is parsed, defaults filled and unknown fields dropped", () => {
    const edit = builtinTools().find((tool) => tool.name === "edit")!;
    expect(validateInput(edit, { file_path: "a", old_string: "x", new_string: "y", extra: 1 })).toEqual({
      ok: true,
      input: { file_path: "a", old_string: "x", new_string: "y", replace_all: false },
    });
  });

  test("errors name every bad field", () => {
    const result = validateInput(bashTool, { timeout: "fast", description: 3 });
    expect(result).toEqual({
      ok: false,
      error: [
        "Invalid arguments for bash:",
        "- command: required",
        "- timeout: expected number, received string",
        "- description: expected string, received number",
      ].join("\n"),
    });
    expect(validateInput(bashTool, { command: "ls", timeout: 10_000_000 })).toEqual({
      ok: false,
      error: "Invalid arguments for bash:\n- timeout: Too big: expected number to be <=600000",
    });
    expect(validateInput(bashTool, "ls")).toMatchObject({ ok: false });
  });
});
