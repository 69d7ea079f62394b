/**
 * The end of an answer that is still streaming, cut to fit the screen. Ink redraws its live area in
 * place only while it is shorter than the terminal; taller, it clears the screen and scrollback on
 * every frame. So the live answer shows its last lines, and the whole answer is written once, to
 * the static transcript, when it ends.
 */
const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

export interface Tail {
  text: string;
  /** Source lines left out above the tail. */
  hidden: number;
}

/** `rows` counts screen rows: a source line wider than `columns` takes several. */
export function liveTail(text: string, rows: number, columns: number): Tail {
  const lines = text.split("\n");
  const width = Math.max(10, columns - 4);
  let used = 0;
  let start = lines.length;
  while (start > 0) {
    const cost = Math.max(1, Math.ceil((lines[start - 1] as string).length / width));
    if (used + cost > rows) break;
    used += cost;
    start--;
  }
  if (start === 0) return { text, hidden: 0 };
  // A cut inside a fenced block would show code as prose: reopen the fence.
  let open: string | undefined;
  for (const line of lines.slice(0, start)) {
    const fence = FENCE.exec(line);
    if (fence) open = open === undefined ? line : undefined;
  }
  const kept = lines.slice(start);
  return { text: (open === undefined ? kept : [open, ...kept]).join("\n"), hidden: start };
}
