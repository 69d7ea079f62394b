/**
 * Keeping the conversation inside the model's window. Two steps, cheapest first: old tool outputs
 * are replaced by a one-line stub (the model can re-run the tool), then the older part of the
 * conversation is summarised by the model itself and replaced by that summary.
 */
import type { Message, Provider } from "../types.ts";

/** Where pruning starts, as a share of the window. */
export const PRUNE_AT = 0.7;
/** Where a summary replaces the older conversation, after pruning could not get below it. */
export const SUMMARISE_AT = 0.85;
/**
 * Tool outputs of the most recent messages are not pruned: the model is working with them. A
 * third of the budget, at most this many tokens.
 */
const KEEP_RECENT_TOKENS = 20_000;
const PRUNED_PREFIX = "[output pruned to save context:";

/**
 * A rough count (4 characters a token) used between provider reports; the provider's exact usage
 * replaces it after every response.
 */
export function estimateTokens(messages: readonly Message[], system = ""): number {
  let chars = system.length;
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type === "text") chars += block.text.length;
      else if (block.type === "tool_result") chars += block.content.length + 20;
      else chars += JSON.stringify(block.input).length + block.name.length + 20;
    }
  }
  return Math.ceil(chars / 4);
}

export interface PruneResult {
  messages: Message[];
  pruned: number;
  tokens: number;
}

/**
 * Replaces tool outputs, oldest first, until the estimate is under `budget`, never touching those
 * in the last KEEP_RECENT_TOKENS. Deterministic, so a resumed session prunes the same way.
 */
export function pruneToolOutputs(messages: readonly Message[], budget: number, system = ""): PruneResult {
  let tokens = estimateTokens(messages, system);
  let pruned = 0;
  if (tokens <= budget) return { messages: [...messages], pruned, tokens };
  // The last message always stays whole: it holds the results the model asked for just now.
  const protectedFrom = Math.min(
    recentBoundary(messages, Math.min(KEEP_RECENT_TOKENS, budget / 3)),
    messages.length - 1,
  );
  const out = messages.map((message, index) => {
    if (index >= protectedFrom || tokens <= budget || message.role !== "user") return message;
    return {
      role: message.role,
      content: message.content.map((block) => {
        if (block.type !== "tool_result" || tokens <= budget || block.content.startsWith(PRUNED_PREFIX)) {
          return block;
        }
        const stub = `${PRUNED_PREFIX} ${block.content.length} characters; run the tool again if needed]`;
        tokens -= Math.ceil((block.content.length - stub.length) / 4);
        pruned++;
        return { ...block, content: stub };
      }),
    };
  });
  return { messages: out, pruned, tokens };
}

function recentBoundary(messages: readonly Message[], keep: number): number {
  let tokens = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    tokens += estimateTokens([messages[i] as Message]);
    if (tokens > keep) return i + 1;
  }
  return 0;
}

/**
 * Where the conversation can be cut for a summary: at a user prompt (not a tool result, whose
 * tool call would be cut away from it), as late as possible so the kept tail stays small but never
 * at 0 (nothing to summarise). Returns undefined when no such point exists.
 */
export function summarySplit(messages: readonly Message[]): number | undefined {
  for (let i = messages.length - 1; i > 0; i--) {
    const message = messages[i] as Message;
    if (message.role === "user" && message.content.every((block) => block.type === "text")) return i;
  }
  return undefined;
}

const SUMMARY_INSTRUCTIONS = `You are summarising a coding session so that it can continue with less context.
Write a dense summary the assistant can work from without the original messages:
- the user's goals and every explicit instruction or preference;
- what was done: files read, created or edited (with paths) and why, commands run and their outcomes;
- the current state: what works, what fails (exact error messages), decisions taken;
- what remains to be done, in order.
Keep code identifiers, paths and error text exact. Do not add a preamble.`;

/** Asks the model for a summary of `messages`; the text of its answer. */
export async function summarise(
  provider: Provider,
  model: string,
  messages: readonly Message[],
  signal?: AbortSignal,
): Promise<string> {
  const transcript: Message[] = [
    ...messages,
    { role: "user", content: [{ type: "text", text: "Summarise the conversation so far as instructed." }] },
  ];
  let text = "";
  for await (const event of provider.stream({
    model,
    system: SUMMARY_INSTRUCTIONS,
    messages: mergeAdjacent(transcript),
    tools: [],
    maxTokens: 4096,
    signal,
  })) {
    if (event.type === "text_delta") text += event.text;
  }
  return text.trim();
}

/**
 * Providers want user and assistant turns to alternate; an interrupted turn can leave two user
 * messages in a row, which are merged here (tool results first, as the APIs require).
 */
export function mergeAdjacent(messages: readonly Message[]): Message[] {
  const out: Message[] = [];
  for (const message of messages) {
    const last = out[out.length - 1];
    if (last && last.role === message.role) {
      const content = [...last.content, ...message.content];
      if (message.role === "user") content.sort((a, b) => rank(a.type) - rank(b.type));
      out[out.length - 1] = { role: last.role, content };
    } else {
      out.push({ role: message.role, content: [...message.content] });
    }
  }
  return out;
}

function rank(type: string): number {
  return type === "tool_result" ? 0 : 1;
}
