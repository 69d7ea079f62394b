/** Inline markdown (emphasis, code spans, links…) as nested Ink <Text> elements. */
import { Text } from "ink";
import type { Token } from "marked";
import type { ReactNode } from "react";
import type { Theme } from "../theme.tsx";

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#39;": "'",
};

export function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

/** The visible text of inline tokens, for measuring table cells. */
export function plainText(tokens: readonly Token[] | undefined): string {
  if (!tokens) return "";
  return tokens
    .map((token): string => {
      switch (token.type) {
        case "codespan":
        case "escape":
          return decodeEntities(token.text);
        case "br":
          return " ";
        case "link":
          return linkLabel(plainText(token.tokens), token.href);
        case "image":
          return `[image: ${token.text || token.href}]`;
        default:
          return "tokens" in token && token.tokens ? plainText(token.tokens) : decodeEntities(token.raw);
      }
    })
    .join("");
}

function linkLabel(label: string, href: string): string {
  return label === href || `mailto:${label}` === href ? href : `${label} (${href})`;
}

export function renderInline(tokens: readonly Token[] | undefined, theme: Theme): ReactNode[] {
  if (!tokens) return [];
  return tokens.map((token, index) => {
    const key = `${index}`;
    switch (token.type) {
      case "strong":
        return (
          <Text key={key} bold>
            {renderInline(token.tokens, theme)}
          </Text>
        );
      case "em":
        return (
          <Text key={key} italic>
            {renderInline(token.tokens, theme)}
          </Text>
        );
      case "del":
        return (
          <Text key={key} strikethrough>
            {renderInline(token.tokens, theme)}
          </Text>
        );
      case "codespan":
        return (
          <Text key={key} color={theme.code}>
            {decodeEntities(token.text)}
          </Text>
        );
      case "br":
        return "\n";
      case "link": {
        const label = plainText(token.tokens);
        if (label === token.href || `mailto:${label}` === token.href) {
          return (
            <Text key={key} color={theme.link} underline>
              {token.href}
            </Text>
          );
        }
        return (
          <Text key={key}>
            <Text color={theme.link}>{renderInline(token.tokens, theme)}</Text>
            <Text dimColor> ({token.href})</Text>
          </Text>
        );
      }
      case "image":
        return (
          <Text key={key} dimColor>
            [image: {token.text || token.href}]
          </Text>
        );
      case "escape":
        return decodeEntities(token.text);
      case "text":
        return "tokens" in token && token.tokens ? (
          <Text key={key}>{renderInline(token.tokens, theme)}</Text>
        ) : (
          decodeEntities(token.text)
        );
      default:
        return decodeEntities(token.raw);
    }
  });
}
