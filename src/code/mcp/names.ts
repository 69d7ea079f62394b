/**
 * Tool names the model sees for MCP tools: `mcp__<server>__<tool>`, as Claude Code names them,
 * so permission rules written for Claude Code (`mcp__github__search_issues`) work unchanged.
 */
import { createHash } from "node:crypto";

/** Anthropic and OpenAI both reject tool names outside ^[a-zA-Z0-9_-]{1,64}$. */
export const MAX_TOOL_NAME = 64;

export function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, "_");
}

/** The model-facing name of `tool` on `server`; past the limit it is cut and given a hash suffix. */
export function mcpToolName(server: string, tool: string): string {
  const full = `mcp__${sanitizeName(server)}__${sanitizeName(tool)}`;
  return full.length <= MAX_TOOL_NAME ? full : hashedName(full, server, tool);
}

/**
 * `name` cut to fit with a hash of the original pair appended: two long names sharing a prefix, or
 * two that sanitising made equal ("a.b" and "a_b"), still differ.
 */
export function hashedName(name: string, server: string, tool: string): string {
  const hash = createHash("sha256").update(`${server}\0${tool}`).digest("hex").slice(0, 8);
  return `${name.slice(0, MAX_TOOL_NAME - hash.length - 1)}_${hash}`;
}
