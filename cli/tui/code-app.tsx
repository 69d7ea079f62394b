/**
 * The entry of `a3s code`'s terminal UI, imported lazily by the CLI so that loading Ink and React
 * costs nothing for other commands.
 */
import { render } from "ink";
import { type ReactNode, useEffect, useRef } from "react";
import type { CodeSession } from "../../src/code/types.ts";
import { A3sError } from "../../src/core/errors.ts";
import { App } from "./app.tsx";
import { History } from "./input/history.ts";
import { TuiProvider, useUIActions } from "./store.tsx";
import { type Theme, ThemeProvider, themeFor } from "./theme.tsx";

export interface CodeTuiOptions {
  /** Submitted as soon as the UI is up (`a3s code "fix the tests"`). */
  initialPrompt?: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  /** Where prompt history persists (JSON lines); in memory only when absent. */
  historyFile?: string;
  /** Defaults to NO_COLOR from the environment. */
  theme?: Theme;
}

export interface CodeAppProps {
  session: CodeSession;
  history: History;
  initialPrompt?: string;
  theme: Theme;
  onExit(code: number): void;
}

function InitialPrompt({ prompt }: { prompt: string | undefined }): null {
  const actions = useUIActions();
  const sent = useRef(false);
  useEffect(() => {
    if (prompt && !sent.current) {
      sent.current = true;
      actions.submit(prompt);
    }
  }, [prompt, actions]);
  return null;
}

/** The whole UI as a component (tests render it with ink-testing-library). */
export function CodeApp({ session, history, initialPrompt, theme, onExit }: CodeAppProps): ReactNode {
  return (
    <ThemeProvider value={theme}>
      <TuiProvider session={session} onExit={onExit}>
        <InitialPrompt prompt={initialPrompt} />
        <App history={history} />
      </TuiProvider>
    </ThemeProvider>
  );
}

const BRACKETED_PASTE_ON = "\x1b[?2004h";
const BRACKETED_PASTE_OFF = "\x1b[?2004l";

/**
 * Runs the UI until the user quits; resolves with the exit code: 0 for /exit and Ctrl-D,
 * 130 for Ctrl-C pressed twice.
 */
export async function runCodeTui(session: CodeSession, options: CodeTuiOptions = {}): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  if (!stdin.isTTY) {
    throw new A3sError("usage", "the terminal UI needs an interactive terminal", {
      hint: 'run a task headless with: a3s code run "<task>"',
    });
  }
  let exitCode = 0;
  if (stdout.isTTY) stdout.write(BRACKETED_PASTE_ON);
  const app = render(
    <CodeApp
      session={session}
      history={new History(options.historyFile)}
      initialPrompt={options.initialPrompt}
      theme={options.theme ?? themeFor(process.env)}
      onExit={(code) => {
        exitCode = code;
      }}
    />,
    { stdin, stdout, exitOnCtrlC: false, kittyKeyboard: { mode: "auto" } },
  );
  // Taken at once: under Bun the promise can hang when taken after the app has exited.
  const done = app.waitUntilExit();
  try {
    await done;
  } finally {
    if (stdout.isTTY) stdout.write(BRACKETED_PASTE_OFF);
  }
  return exitCode;
}
