/** A picker (used by /model): a titled list of options. */
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { useSelect } from "../hooks/use-select.ts";
import type { Picker } from "../store.tsx";
import { useUIActions } from "../store.tsx";
import { useTheme } from "../theme.tsx";

export function Choices({ options, selected }: { options: readonly string[]; selected: number }): ReactNode {
  const theme = useTheme();
  return (
    <Box flexDirection="column">
      {options.map((option, index) => (
        <Text key={option} color={index === selected ? theme.accent : undefined} bold={index === selected}>
          {index === selected ? "❯ " : "  "}
          {index + 1}. {option}
        </Text>
      ))}
    </Box>
  );
}

export function PickerDialog({ picker }: { picker: Picker }): ReactNode {
  const actions = useUIActions();
  const selected = useSelect({
    count: picker.options.length,
    initial: picker.initial,
    isActive: true,
    onPick: (index) => {
      actions.openPicker(undefined);
      picker.onPick(picker.options[index]!);
    },
    onCancel: () => actions.openPicker(undefined),
  });
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1} marginTop={1}>
      <Text bold>{picker.title}</Text>
      <Choices options={picker.options} selected={selected} />
      <Text dimColor>Enter to select · Esc to cancel</Text>
    </Box>
  );
}
