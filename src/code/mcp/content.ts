/** MCP tool results turned into what the model reads: text, with binary content described, not inlined. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { ToolResult } from "../types.ts";

/**
 * A result past this many characters is cut: one chatty server must not fill the context window
 * (Claude Code caps MCP output similarly, at 25k tokens).
 */
export const MAX_RESULT_CHARS = 100_000;

type Block = CallToolResult["content"][number];

export function toToolResult(result: CallToolResult): ToolResult {
  const parts = result.content.map(describeBlock);
  // Tools with an output schema may answer only in structuredContent.
  if (parts.length === 0 && result.structuredContent !== undefined) {
    parts.push(JSON.stringify(result.structuredContent, null, 2));
  }
  const content = truncate(parts.join("\n"));
  const isError = result.isError === true;
  return { content, ...(isError ? { isError } : {}), summary: summarize(content, isError) };
}

function describeBlock(block: Block): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "image":
      return `[image: ${block.mimeType}, ${base64Bytes(block.data)} bytes]`;
    case "audio":
      return `[audio: ${block.mimeType}, ${base64Bytes(block.data)} bytes]`;
    case "resource": {
      const { resource } = block;
      if ("text" in resource) return `[resource: ${resource.uri}]\n${resource.text}`;
      const mime = resource.mimeType ? `${resource.mimeType}, ` : "";
      return `[resource: ${resource.uri}, ${mime}${base64Bytes(resource.blob)} bytes]`;
    }
    case "resource_link": {
      const description = block.description ? ` — ${block.description}` : "";
      return `[resource link: ${block.name} ${block.uri}${description}]`;
    }
    default:
      return `[${(block as { type: string }).type} content]`;
  }
}

/** Decoded size of base64 text without decoding it. */
export function base64Bytes(data: string): number {
  const clean = data.replace(/\s/g, "");
  const padding = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - padding;
}

function truncate(text: string): string {
  if (text.length <= MAX_RESULT_CHARS) return text;
  const rest = text.length - MAX_RESULT_CHARS;
  return `${text.slice(0, MAX_RESULT_CHARS)}\n[output truncated: ${rest} more characters]`;
}

function summarize(content: string, isError: boolean): string {
  const lines = content === "" ? 0 : content.split("\n").length;
  const first = content.split("\n", 1)[0] ?? "";
  if (isError) return first.length > 80 ? `${first.slice(0, 79)}…` : first || "error";
  if (lines === 1 && first.length <= 80) return first;
  return lines === 0 ? "no output" : `${lines} line${lines === 1 ? "" : "s"}`;
}
