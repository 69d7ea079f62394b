/**
 * Tool-call arguments arrive as JSON text streamed in pieces. When the model writes something that
 * is not a JSON object (truncated at max_tokens, a stray trailing brace), the call is still yielded,
 * with the raw text under INVALID_ARGUMENTS: the tool's input validation then fails, the model is
 * told so in the tool result and can try again, and the conversation stays well-formed (every
 * tool_use keeps its tool_result). Sending the call back to the provider restores the raw text.
 */

/** The only key of a tool input whose arguments were not a JSON object; its value is the raw text. */
export const INVALID_ARGUMENTS = "_invalid_json_arguments";

export function parseToolInput(raw: string): Record<string, unknown> {
  if (raw.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through: keep the raw text for the model to see
  }
  return { [INVALID_ARGUMENTS]: raw };
}

/** The arguments text as the model wrote it, for replaying an assistant turn. */
export function toolArgumentsText(input: Record<string, unknown>): string {
  const raw = input[INVALID_ARGUMENTS];
  if (typeof raw === "string" && Object.keys(input).length === 1) return raw;
  return JSON.stringify(input);
}
