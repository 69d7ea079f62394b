/** The prompt: a bordered multi-line editor, queued prompts above it, command hints below. */
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import type { EditorState } from "../input/editor.ts";
import type { SlashCommand } from "../slash-commands.ts";
import { useTheme } from "../theme.tsx";

export function EditorView({
  editor,
  active,
  placeholder,
}: {
  editor: EditorState;
  active: boolean;
  placeholder?: string;
}): ReactNode {
  if (editor.text === "" && placeholder) {
    return (
      <Text>
        {active ? <Text inverse>{placeholder[0]}</Text> : placeholder[0]}
        <Text dimColor>{placeholder.slice(1)}</Text>
      </Text>
    );
  }
  const lines = editor.text.split("\n");
  let offset = 0;
  return (
    <Box flexDirection="column">
      {lines.map((line, index) => {
        const start = offset;
        offset += line.length + 1;
        const column = editor.cursor - start;
        const hasCursor = active && column >= 0 && column <= line.length;
        if (!hasCursor) {
          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positions, not identities
          return <Text key={index}>{line === "" ? " " : line}</Text>;
        }
        const at = line.codePointAt(column);
        const char = at === undefined ? " " : String.fromCodePoint(at);
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: lines are positions, not identities
          <Text key={index}>
            {line.slice(0, column)}
            <Text inverse>{char}</Text>
            {line.slice(column + (at === undefined ? 0 : char.length))}
          </Text>
        );
      })}
    </Box>
  );
}

export interface PromptBoxProps {
  editor: EditorState;
  active: boolean;
  queue: readonly string[];
  suggestions: readonly SlashCommand[];
  selected: number;
}

export function PromptBox({ editor, active, queue, suggestions, selected }: PromptBoxProps): ReactNode {
  const theme = useTheme();
  return (
    <Box flexDirection="column" marginTop={1}>
      {queue.map((prompt, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the queue only changes at its ends
        <Text key={index} dimColor>
          queued: {prompt.split("\n")[0]}
        </Text>
      ))}
      <Box
        borderStyle="round"
        borderDimColor={!active}
        borderColor={active ? theme.accent : undefined}
        paddingX={1}
      >
        <Box flexShrink={0}>
          <Text color={theme.user} bold>
            {"> "}
          </Text>
        </Box>
        <Box flexGrow={1} flexShrink={1}>
          <EditorView editor={editor} active={active} placeholder='Ask anything · "/" for commands' />
        </Box>
      </Box>
      {suggestions.length > 0 ? (
        <Box flexDirection="column" paddingLeft={2}>
          {suggestions.map((command, index) => (
            <Text
              key={command.name}
              color={index === selected ? theme.accent : undefined}
              dimColor={index !== selected}
            >
              {`/${command.name}${command.args ? ` ${command.args}` : ""}`.padEnd(18)} {command.description}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
