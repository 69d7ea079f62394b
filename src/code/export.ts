/** A saved session as Markdown (for people) or JSON (for tools); what `code sessions export` writes. */
import type { SessionEntry, SessionRecord } from "./sessions.ts";
import type { ContentBlock } from "./types.ts";

export interface SessionExport {
  session: SessionRecord;
  entries: SessionEntry[];
}

const RESULT_PREVIEW = 2_000;

export function sessionMarkdown({ session, entries }: SessionExport): string {
  const lines = [
    `# ${session.title || "Untitled session"}`,
    "",
    `- Session: \`${session.id}\``,
    `- Model: ${session.model}`,
    `- Directory: \`${session.cwd}\``,
    `- Started: ${session.createdAt}`,
    `- Tokens: ${session.usage.inputTokens} in, ${session.usage.outputTokens} out; cost $${session.usage.costUsd.toFixed(4)}`,
    "",
  ];
  for (const entry of entries) {
    if (entry.kind === "summary") {
      lines.push("## Summary (earlier messages compacted)", "", entry.text, "");
      continue;
    }
    const blocks = entry.message.content;
    const heading =
      entry.message.role === "assistant" ? "## Assistant" : isToolResults(blocks) ? "" : "## User";
    if (heading) lines.push(heading, "");
    for (const block of blocks) lines.push(...blockMarkdown(block), "");
  }
  return `${lines
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()}\n`;
}

function isToolResults(blocks: readonly ContentBlock[]): boolean {
  return blocks.length > 0 && blocks.every((block) => block.type === "tool_result");
}

function blockMarkdown(block: ContentBlock): string[] {
  switch (block.type) {
    case "text":
      return [block.text];
    case "tool_use":
      return [
        `**Tool call** \`${block.name}\` (${block.id})`,
        "",
        fence(JSON.stringify(block.input, null, 2), "json"),
      ];
    case "tool_result": {
      const body =
        block.content.length > RESULT_PREVIEW
          ? `${block.content.slice(0, RESULT_PREVIEW)}\n… (${block.content.length - RESULT_PREVIEW} more characters)`
          : block.content;
      return [`**Result**${block.isError ? " (error)" : ""} of ${block.toolUseId}`, "", fence(body, "")];
    }
  }
}

/** A fence longer than any backtick run inside, so tool output cannot close it early. */
function fence(text: string, lang: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${text}\n${ticks}`;
}
