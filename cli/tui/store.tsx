/**
 * The state container: the reducer, the session it renders, the prompt queue and transient UI
 * state, published as two contexts (state and actions) so components stay presentational.
 */
import { useApp } from "ink";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useMemo,
  useReducer,
  useRef,
  useState,
} from "react";
import type { ApprovalAnswer, CodeSession, PermissionMode } from "../../src/code/types.ts";
import { useSessionEvents } from "./hooks/use-session-events.ts";
import { type Action, initialState, type NoticeTone, reducer, type TuiState } from "./state.ts";

export interface Picker {
  title: string;
  options: string[];
  initial: number;
  onPick(option: string): void;
}

export interface UIState extends TuiState {
  session: CodeSession;
  /** Prompts typed while a turn runs; each is submitted when the previous turn ends. */
  queue: string[];
  /** A submit() or compact() is in flight (may outlast `running`, which follows the events). */
  busy: boolean;
  /** A short hint under the input ("Press Ctrl-C again to exit"). */
  flash: string | undefined;
  picker: Picker | undefined;
}

export interface UIActions {
  submit(prompt: string): void;
  interrupt(): void;
  /** Takes the queued prompts back (Esc puts them in the input box). */
  takeQueue(): string[];
  answer(key: number, answer: ApprovalAnswer): void;
  notice(tone: NoticeTone, text: string): void;
  setFlash(text: string | undefined): void;
  openPicker(picker: Picker | undefined): void;
  setModel(model: string): void;
  setMode(mode: PermissionMode): void;
  compact(): void;
  clear(): void;
  exit(code: number): void;
}

const StateContext = createContext<UIState | undefined>(undefined);
const ActionsContext = createContext<UIActions | undefined>(undefined);

export function useUIState(): UIState {
  const state = useContext(StateContext);
  if (!state) throw new Error("useUIState outside <TuiProvider>");
  return state;
}

export function useUIActions(): UIActions {
  const actions = useContext(ActionsContext);
  if (!actions) throw new Error("useUIActions outside <TuiProvider>");
  return actions;
}

export interface TuiProviderProps {
  session: CodeSession;
  onExit(code: number): void;
  children: ReactNode;
}

export function TuiProvider({ session: initial, onExit, children }: TuiProviderProps): ReactNode {
  const app = useApp();
  const [session, setSession] = useState(initial);
  const [state, dispatch] = useReducer(reducer, initial, initialState);
  const [queue, setQueue] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [flash, setFlash] = useState<string | undefined>();
  const [picker, openPicker] = useState<Picker | undefined>();
  const link = useSessionEvents(session, dispatch);
  // Refs, because actions run from input handlers and async continuations, not renders.
  const live = useRef({ session, busy, queue });
  live.current = { session, busy, queue };

  const run = useCallback(
    async (work: () => Promise<void>) => {
      live.current.busy = true;
      setBusy(true);
      dispatch({ type: "turn_start", at: Date.now() });
      try {
        await work();
      } catch (error) {
        link.flush();
        dispatch({ type: "notice", tone: "error", text: `Error: ${(error as Error).message}` });
      }
      link.flush();
      link.denyAll();
      dispatch({ type: "turn_end" } satisfies Action);
      live.current.busy = false;
      setBusy(false);
      const [next, ...rest] = live.current.queue;
      if (next !== undefined) {
        live.current.queue = rest;
        setQueue(rest);
        void run(() => live.current.session.submit(next));
      }
    },
    [link],
  );

  const actions = useMemo<UIActions>(
    () => ({
      submit(prompt) {
        if (live.current.busy) {
          live.current.queue = [...live.current.queue, prompt];
          setQueue(live.current.queue);
          return;
        }
        void run(() => live.current.session.submit(prompt));
      },
      interrupt() {
        if (live.current.busy) live.current.session.interrupt();
      },
      takeQueue() {
        const taken = live.current.queue;
        live.current.queue = [];
        setQueue([]);
        return taken;
      },
      answer: (key, answer) => link.answer(key, answer),
      notice: (tone, text) => dispatch({ type: "notice", tone, text }),
      setFlash,
      openPicker,
      setModel(model) {
        live.current.session.setModel(model);
        dispatch({ type: "settings", model });
      },
      setMode(mode) {
        live.current.session.setMode(mode);
        dispatch({ type: "settings", mode });
      },
      compact() {
        void run(() => live.current.session.compact());
      },
      clear() {
        const next = live.current.session.clear();
        live.current.session = next;
        setSession(next);
        dispatch({ type: "session", session: next });
      },
      exit(code) {
        if (live.current.busy) live.current.session.interrupt();
        link.denyAll();
        onExit(code);
        // Exiting inside an input handler can leave Ink's waitUntilExit() pending under Bun.
        setTimeout(() => app.exit(), 0);
      },
    }),
    [run, link, onExit, app],
  );

  const uiState = useMemo<UIState>(
    () => ({ ...state, session, queue, busy, flash, picker }),
    [state, session, queue, busy, flash, picker],
  );
  return (
    <ActionsContext.Provider value={actions}>
      <StateContext.Provider value={uiState}>{children}</StateContext.Provider>
    </ActionsContext.Provider>
  );
}
