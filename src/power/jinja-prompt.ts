/**
 * Prompts from a GGUF's `tokenizer.chat_template`, the Jinja template Hugging Face tokenizers carry,
 * for models whose manifest has no Ollama template layer. Rendered with @huggingface/jinja and the
 * variables transformers' apply_chat_template provides (messages, tools, bos/eos tokens,
 * add_generation_prompt; the library itself defines raise_exception and strftime_now).
 */
import { Template } from "@huggingface/jinja";
import { A3sError } from "../core/errors.ts";
import type { ChatMessage, Tool } from "./template.ts";

export interface JinjaPromptOptions {
  messages: ChatMessage[];
  tools?: Tool[];
  bosToken: string;
  eosToken: string;
  /** Open the assistant's turn at the end (what a chat request wants); default true. */
  addGenerationPrompt?: boolean;
}

/** A message in the shape transformers' chat templates expect (OpenAI's, tool calls typed "function"). */
function jinjaMessage(message: ChatMessage): Record<string, unknown> {
  return {
    role: message.role,
    content: message.content,
    ...(message.tool_calls?.length
      ? {
          tool_calls: message.tool_calls.map((call) => ({
            ...(call.id ? { id: call.id } : {}),
            type: "function",
            function: { name: call.function.name, arguments: call.function.arguments ?? {} },
          })),
        }
      : {}),
    ...(message.tool_name ? { name: message.tool_name } : {}),
    ...(message.tool_call_id ? { tool_call_id: message.tool_call_id } : {}),
  };
}

/** Renders a chat template; syntax errors and the template's raise_exception calls are usage errors. */
export function renderJinjaPrompt(template: string, options: JinjaPromptOptions): string {
  const context = {
    messages: options.messages.map(jinjaMessage),
    ...(options.tools?.length ? { tools: options.tools } : {}),
    bos_token: options.bosToken,
    eos_token: options.eosToken,
    add_generation_prompt: options.addGenerationPrompt ?? true,
  };
  try {
    return new Template(template).render(context);
  } catch (err) {
    throw new A3sError("usage", `chat template: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
