import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "../core/db.ts";
import { SessionStore } from "./sessions.ts";
import type { Message } from "./types.ts";

let dir: string;
let db: Database;
let store: SessionStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "a3s-sessions-"));
  db = openDatabase(join(dir, "a3s.db"));
  store = new SessionStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const user = (text: string): Message => ({ role: "user", content: [{ type: "text", text }] });
const assistant = (text: string): Message => ({ role: "assistant", content: [{ type: "text", text }] });

describe("SessionStore", () => {
  test("keeps messages in order and titles the session with the first prompt", () => {
    const session = store.create({ cwd: "/w", model: "anthropic/claude" });
    store.appendMessage(session.id, user("  fix the\nflaky test  "));
    store.appendMessage(session.id, {
      role: "assistant",
      content: [{ type: "tool_use", id: "t1", name: "read", input: { path: "a.ts" } }],
    });
    store.appendMessage(session.id, {
      role: "user",
      content: [{ type: "tool_result", toolUseId: "t1", content: "1\tx" }],
    });
    const record = store.get(session.id);
    expect(record.title).toBe("fix the flaky test");
    expect(record.messages).toBe(3);
    expect(store.conversation(session.id).map((m) => m.content[0]?.type)).toEqual([
      "text",
      "tool_use",
      "tool_result",
    ]);
  });

  test("a summary stands for everything before it", () => {
    const session = store.create({ cwd: "/w", model: "m/x" });
    store.appendMessage(session.id, user("one"));
    store.appendMessage(session.id, assistant("two"));
    store.appendSummary(session.id, "we did one and two");
    store.appendMessage(session.id, user("three"));
    const conversation = store.conversation(session.id);
    expect(conversation).toHaveLength(2);
    expect(JSON.stringify(conversation[0])).toContain("we did one and two");
    expect(conversation[1]).toEqual(user("three"));
    expect(store.entries(session.id).map((e) => e.kind)).toEqual([
      "message",
      "message",
      "summary",
      "message",
    ]);
  });

  test("resolves ids by unique prefix and refuses ambiguous or unknown ones", () => {
    const a = store.create({ cwd: "/w", model: "m/x" });
    expect(store.get(a.id.slice(0, 8)).id).toBe(a.id);
    expect(() => store.get("zzzz")).toThrow("no such session");
    expect(() => store.get("")).toThrow();
    // 17 uuids over 16 hex digits: at least two share their first character.
    const ids = [a.id, ...Array.from({ length: 16 }, () => store.create({ cwd: "/w", model: "m" }).id)];
    const shared = ids.map((id) => id[0]).find((c, i, all) => all.indexOf(c) !== i) as string;
    expect(() => store.get(shared)).toThrow("ambiguous");
  });

  test("latest() finds the most recent session of a directory; usage accumulates", () => {
    const old = store.create({ cwd: "/w", model: "m" }, new Date("2026-01-01T00:00:00Z"));
    store.create({ cwd: "/other", model: "m" }, new Date("2026-01-03T00:00:00Z"));
    const recent = store.create({ cwd: "/w", model: "m" }, new Date("2026-01-02T00:00:00Z"));
    expect(store.latest("/w")?.id).toBe(recent.id);
    store.appendMessage(old.id, user("again"), new Date("2026-01-05T00:00:00Z"));
    expect(store.latest("/w")?.id).toBe(old.id);
    store.addUsage(old.id, { inputTokens: 100, outputTokens: 20, cacheReadTokens: 5 }, 0.25);
    store.addUsage(old.id, { inputTokens: 10, outputTokens: 2 }, 0.5);
    expect(store.get(old.id).usage).toEqual({
      inputTokens: 110,
      outputTokens: 22,
      cacheReadTokens: 5,
      cacheWriteTokens: 0,
      costUsd: 0.75,
    });
    expect(store.list({ cwd: "/w" }).map((s) => s.id)).toEqual([old.id, recent.id]);
  });

  test("remove deletes the session and its entries", () => {
    const session = store.create({ cwd: "/w", model: "m" });
    store.appendMessage(session.id, user("x"));
    store.remove(session.id);
    expect(() => store.get(session.id)).toThrow("no such session");
    expect(db.query("SELECT COUNT(*) AS n FROM code_entries").get()).toEqual({ n: 0 });
  });
});
