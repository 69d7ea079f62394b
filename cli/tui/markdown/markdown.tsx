/**
 * Markdown → Ink: marked's lexer gives block tokens; each block renders as a memoised component
 * keyed by its source, so while an answer streams only the last (growing) block re-renders.
 */
import { Box, Text } from "ink";
import { marked, type Token, type Tokens } from "marked";
import { memo, type ReactNode } from "react";
import { type Theme, useTheme } from "../theme.tsx";
import { CodeBlock } from "./code-block.tsx";
import { decodeEntities, plainText, renderInline } from "./inline.tsx";

export function Markdown({ text }: { text: string }): ReactNode {
  const tokens = marked.lexer(text, { gfm: true });
  const blocks = tokens.filter((token) => token.type !== "space" && token.type !== "def");
  return (
    <Box flexDirection="column" gap={1}>
      {blocks.map((token, index) => (
        // Index keys are right here: blocks only ever grow at the end while streaming.
        // biome-ignore lint/suspicious/noArrayIndexKey: see above
        <MarkdownBlock key={index} token={token} />
      ))}
    </Box>
  );
}

const MarkdownBlock = memo(
  function MarkdownBlock({ token }: { token: Token }): ReactNode {
    return <Block token={token} theme={useTheme()} />;
  },
  (previous, next) => previous.token.raw === next.token.raw,
);

function Block({ token, theme }: { token: Token; theme: Theme }): ReactNode {
  switch (token.type) {
    case "heading":
      return (
        <Text bold color={theme.heading} underline={token.depth === 1}>
          {token.depth > 2 ? `${"#".repeat(token.depth)} ` : ""}
          {renderInline(token.tokens, theme)}
        </Text>
      );
    case "paragraph":
      return <Text>{renderInline(token.tokens, theme)}</Text>;
    case "text":
      return (
        <Text>{"tokens" in token && token.tokens ? renderInline(token.tokens, theme) : token.text}</Text>
      );
    case "code":
      return <CodeBlock code={token.text} language={token.lang} />;
    case "blockquote":
      return (
        <Box
          borderStyle="single"
          borderTop={false}
          borderRight={false}
          borderBottom={false}
          borderDimColor
          paddingLeft={1}
          flexDirection="column"
        >
          {blockChildren(token.tokens ?? [], theme)}
        </Box>
      );
    case "list":
      return <List list={token as Tokens.List} theme={theme} />;
    case "table":
      return <Table table={token as Tokens.Table} theme={theme} />;
    case "hr":
      return <Text dimColor>{"─".repeat(40)}</Text>;
    case "html":
      return <Text dimColor>{token.text.trimEnd()}</Text>;
    default:
      return <Text>{decodeEntities(token.raw.trimEnd())}</Text>;
  }
}

function blockChildren(tokens: readonly Token[], theme: Theme): ReactNode[] {
  return tokens
    .filter((child) => child.type !== "space" && child.type !== "checkbox")
    .map((child, index) => (
      // biome-ignore lint/suspicious/noArrayIndexKey: children of a token never reorder
      <Block key={index} token={child} theme={theme} />
    ));
}

function List({ list, theme }: { list: Tokens.List; theme: Theme }): ReactNode {
  const start = typeof list.start === "number" ? list.start : 1;
  return (
    <Box flexDirection="column">
      {list.items.map((item, index) => {
        const marker = item.task ? (item.checked ? "☒" : "☐") : list.ordered ? `${start + index}.` : "•";
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: list items never reorder
          <Box key={index} flexDirection="row">
            <Box flexShrink={0} marginRight={1}>
              <Text color={list.ordered ? undefined : theme.accent}>{marker}</Text>
            </Box>
            <Box flexDirection="column" flexGrow={1} flexShrink={1}>
              {blockChildren(item.tokens, theme)}
            </Box>
          </Box>
        );
      })}
    </Box>
  );
}

function pad(text: string, width: number, align: "center" | "left" | "right" | null): string {
  const gap = Math.max(0, width - [...text].length);
  if (align === "right") return " ".repeat(gap) + text;
  if (align === "center") return " ".repeat(Math.floor(gap / 2)) + text + " ".repeat(Math.ceil(gap / 2));
  return text + " ".repeat(gap);
}

function Table({ table, theme }: { table: Tokens.Table; theme: Theme }): ReactNode {
  const header = table.header.map((cell) => plainText(cell.tokens));
  const rows = table.rows.map((row) => row.map((cell) => plainText(cell.tokens)));
  const widths = header.map((cell, column) =>
    Math.max([...cell].length, ...rows.map((row) => [...(row[column] ?? "")].length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) => pad(cell, widths[column] ?? 0, table.align[column] ?? null)).join(" │ ");
  return (
    <Box flexDirection="column">
      <Text bold color={theme.heading}>
        {line(header)}
      </Text>
      <Text dimColor>{widths.map((width) => "─".repeat(width)).join("─┼─")}</Text>
      {rows.map((row, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: table rows never reorder
        <Text key={index}>{line(row)}</Text>
      ))}
    </Box>
  );
}
