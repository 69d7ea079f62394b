/** Renders the whole TUI around a FakeSession with ink-testing-library, plus key and wait helpers. */
import { render } from "ink-testing-library";
import { CodeApp } from "../code-app.tsx";
import { History } from "../input/history.ts";
import { themeFor } from "../theme.tsx";
import { FakeSession, type FakeSessionOptions } from "./fake-session.ts";

export const KEYS = {
  enter: "\r",
  altEnter: "\x1b\r",
  shiftEnterKitty: "\x1b[13;2u",
  ctrlJ: "\n",
  escape: "\x1b",
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  backspace: "\x7f",
  tab: "\t",
  shiftTab: "\x1b[Z",
  ctrlA: "\x01",
  ctrlC: "\x03",
  ctrlD: "\x04",
  ctrlE: "\x05",
  ctrlK: "\x0b",
  ctrlU: "\x15",
  ctrlW: "\x17",
  paste: (text: string) => `\x1b[200~${text}\x1b[201~`,
};

const ANSI = /\x1b\[[0-9;?]*[a-zA-Z]/g;

export interface Harness {
  session: FakeSession;
  history: History;
  frame(): string;
  /** Writes one input event (as a terminal would deliver one key or one pasted chunk). */
  press(...inputs: string[]): Promise<void>;
  type(text: string): Promise<void>;
  waitFor(predicate: (frame: string) => boolean, what?: string): Promise<string>;
  exitCode(): number | undefined;
  unmount(): void;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

export function renderTui(
  options: FakeSessionOptions & { initialPrompt?: string; history?: History; session?: FakeSession } = {},
): Harness {
  const session = options.session ?? new FakeSession(options);
  const history = options.history ?? new History();
  let code: number | undefined;
  const app = render(
    <CodeApp
      session={session}
      history={history}
      initialPrompt={options.initialPrompt}
      theme={themeFor({ NO_COLOR: "1" })}
      onExit={(exit) => {
        code = exit;
      }}
    />,
  );
  const frame = () => (app.lastFrame() ?? "").replace(ANSI, "");
  const harness: Harness = {
    session,
    history,
    frame,
    async press(...inputs) {
      for (const input of inputs) {
        app.stdin.write(input);
        // Ink holds a lone ESC for a tick to see whether a sequence follows.
        await tick();
      }
    },
    // React applies keystrokes on its own schedule: wait until the text shows, as a person would.
    async type(text) {
      await harness.press(text);
      await harness.waitFor((f) => f.includes(text), `the typed text "${text}"`);
    },
    async waitFor(predicate, what = "the expected frame") {
      // Generous: the suite shares two cores with end-to-end tests that build and run binaries.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (predicate(frame())) return frame();
        await tick();
      }
      throw new Error(`timed out waiting for ${what}; last frame:\n${frame()}`);
    },
    exitCode: () => code,
    unmount: () => app.unmount(),
  };
  return harness;
}
