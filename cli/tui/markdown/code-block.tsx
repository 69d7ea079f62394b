/** A fenced code block, highlighted line by line. */
import { Box, Text } from "ink";
import { memo, type ReactNode } from "react";
import { useTheme } from "../theme.tsx";
import { colourFor, highlightLines } from "./highlight.ts";

export const CodeBlock = memo(function CodeBlock({
  code,
  language,
}: {
  code: string;
  language: string | undefined;
}): ReactNode {
  const theme = useTheme();
  const lines = highlightLines(code, language);
  return (
    <Box flexDirection="column" paddingLeft={2}>
      {language ? <Text dimColor>{language}</Text> : null}
      {lines.map((segments, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines of one code block never reorder
        <Text key={index}>
          {segments.length === 0
            ? " "
            : segments.map((segment, part) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: segments of one line never reorder
                <Text key={part} color={colourFor(segment.scope, theme.syntax)}>
                  {segment.text}
                </Text>
              ))}
        </Text>
      ))}
    </Box>
  );
});
