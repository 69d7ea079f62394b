/**
 * The raw prompt llama.cpp sees: a model's Ollama template (Go syntax) when its manifest has one,
 * else the GGUF's own chat template (Jinja), rendered over the conversation and tool definitions.
 */
import { renderJinjaPrompt } from "../jinja-prompt.ts";
import { renderPrompt, type Tool } from "../template.ts";
import type { ChatMessage, ToolDefinition } from "./messages.ts";

export type PromptTemplate =
  | { kind: "go"; text: string }
  | { kind: "jinja"; text: string; bosToken: string; eosToken: string };

export interface Conversation {
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  /** The model's SYSTEM prompt, used when the conversation does not open with its own. */
  system?: string;
}

export function buildPrompt(template: PromptTemplate, conversation: Conversation): string {
  // JSON-schema parameters as clients send them; the renderers read only the fields they know.
  const tools = conversation.tools?.length ? (conversation.tools as Tool[]) : undefined;
  const { system } = conversation;
  if (template.kind === "go")
    return renderPrompt(template.text, { messages: conversation.messages, tools, system });
  const opening = conversation.messages[0]?.role === "system" || !system;
  return renderJinjaPrompt(template.text, {
    messages: opening
      ? conversation.messages
      : [{ role: "system", content: system }, ...conversation.messages],
    tools,
    bosToken: template.bosToken,
    eosToken: template.eosToken,
    addGenerationPrompt: true,
  });
}
