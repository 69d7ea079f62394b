/** Option parsers shared by commands. */

/** For repeatable options (`-e A=1 -e B=2`): commander calls it once per occurrence. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
