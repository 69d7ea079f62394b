/**
 * Connects the reducer to a session: its events, and its approval requests. Text deltas are
 * coalesced into one action per frame (~30 fps) so a fast stream does not re-render per token;
 * any other event first flushes the pending text, which keeps everything in arrival order.
 */
import { type Dispatch, useEffect, useRef } from "react";
import type { ApprovalAnswer, CodeSession } from "../../../src/code/types.ts";
import type { Action } from "../state.ts";

const FRAME_MS = 33;

export interface SessionLink {
  /** Dispatches text still held back, before anything that must come after it. */
  flush(): void;
  answer(key: number, answer: ApprovalAnswer): void;
  /** Denies approvals still open (the turn that asked ended). */
  denyAll(): void;
}

export function useSessionEvents(session: CodeSession, dispatch: Dispatch<Action>): SessionLink {
  const resolvers = useRef(new Map<number, (answer: ApprovalAnswer) => void>());
  const flushRef = useRef<() => void>(() => {});

  useEffect(() => {
    let pending = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    let nextKey = 0;
    const flush = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (pending === "") return;
      const text = pending;
      pending = "";
      dispatch({ type: "text", text });
    };
    flushRef.current = flush;
    const unsubscribe = session.subscribe((event) => {
      if (event.type === "text_delta") {
        pending += event.text;
        timer ??= setTimeout(flush, FRAME_MS);
        return;
      }
      flush();
      dispatch({ type: "event", event });
    });
    session.setApprover(
      (request) =>
        new Promise<ApprovalAnswer>((resolve) => {
          const key = nextKey++;
          resolvers.current.set(key, resolve);
          flush();
          dispatch({ type: "approval_open", key, request });
        }),
    );
    return () => {
      flush();
      unsubscribe();
    };
  }, [session, dispatch]);

  const link = useRef<SessionLink>({
    flush: () => flushRef.current(),
    answer: (key, answer) => {
      const resolve = resolvers.current.get(key);
      resolvers.current.delete(key);
      dispatch({ type: "approval_close", key });
      resolve?.(answer);
    },
    denyAll: () => {
      for (const key of [...resolvers.current.keys()]) link.current.answer(key, { kind: "deny" });
    },
  });
  return link.current;
}
