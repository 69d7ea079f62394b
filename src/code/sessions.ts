/**
 * Coding sessions in SQLite: every message the agent and the user exchanged, in order, and the
 * summaries that compaction put in place of older ones. Field names of SessionSummary are what
 * `a3s code sessions ls --json` prints.
 */
import type { Database } from "bun:sqlite";
import { randomUUID } from "node:crypto";
import { A3sError } from "../core/errors.ts";
import type { Message, SessionSummary, TurnUsage, Usage } from "./types.ts";

export type SessionRecord = SessionSummary & {
  parentId: string | null;
  usage: TurnUsage;
};

export type SessionEntry =
  | { seq: number; kind: "message"; message: Message; createdAt: string }
  /** Stands for every message with a smaller seq once the session is resumed or continued. */
  | { seq: number; kind: "summary"; text: string; createdAt: string };

interface SessionRow {
  id: string;
  title: string;
  cwd: string;
  model: string;
  parent_id: string | null;
  created_at: string;
  updated_at: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
  messages: number;
}

interface EntryRow {
  seq: number;
  kind: "message" | "summary";
  role: "user" | "assistant" | null;
  content: string;
  created_at: string;
}

const TITLE_LENGTH = 80;

/** What a summary row becomes when the conversation is rebuilt for the model. */
export function summaryMessage(text: string): Message {
  return {
    role: "user",
    content: [
      {
        type: "text",
        text: `This session continues an earlier conversation; its summary:\n\n${text}`,
      },
    ],
  };
}

export class SessionStore {
  constructor(private readonly db: Database) {}

  create(input: { cwd: string; model: string; parentId?: string }, now = new Date()): SessionRecord {
    const id = randomUUID();
    const at = now.toISOString();
    this.db
      .query(
        "INSERT INTO code_sessions (id, cwd, model, parent_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run(id, input.cwd, input.model, input.parentId ?? null, at, at);
    return this.get(id);
  }

  /** By full id or a unique prefix, as Docker resolves container ids. */
  get(ref: string): SessionRecord {
    const rows = this.db
      .query<SessionRow, [string, number]>(
        `${SELECT} WHERE s.id = ?1 OR substr(s.id, 1, ?2) = ?1 GROUP BY s.id LIMIT 2`,
      )
      .all(ref, ref.length);
    const exact = rows.find((row) => row.id === ref);
    if (exact) return toRecord(exact);
    if (rows.length === 0 || ref.length === 0) {
      throw new A3sError("not_found", `no such session: ${ref}`, {
        hint: "list them with 'a3s code sessions ls'",
      });
    }
    if (rows.length > 1) {
      throw new A3sError("conflict", `session prefix '${ref}' is ambiguous`, {
        hint: "give more characters of the id",
      });
    }
    return toRecord(rows[0] as SessionRow);
  }

  /** The most recently active session started in `cwd` (`--continue`). */
  latest(cwd: string): SessionRecord | undefined {
    const row = this.db
      .query<SessionRow, [string]>(
        `${SELECT} WHERE s.cwd = ? GROUP BY s.id ORDER BY s.updated_at DESC, s.rowid DESC LIMIT 1`,
      )
      .get(cwd);
    return row ? toRecord(row) : undefined;
  }

  list(options: { cwd?: string; limit?: number } = {}): SessionRecord[] {
    const where = options.cwd === undefined ? "" : "WHERE s.cwd = ?";
    const params = options.cwd === undefined ? [] : [options.cwd];
    const limit = options.limit === undefined ? "" : ` LIMIT ${Math.max(1, Math.floor(options.limit))}`;
    return this.db
      .query<SessionRow, string[]>(
        `${SELECT} ${where} GROUP BY s.id ORDER BY s.updated_at DESC, s.rowid DESC${limit}`,
      )
      .all(...params)
      .map(toRecord);
  }

  appendMessage(sessionId: string, message: Message, now = new Date()): number {
    return this.append(sessionId, "message", message.role, JSON.stringify(message.content), now, () => {
      const text = firstUserText(message);
      if (text !== undefined) {
        this.db
          .query("UPDATE code_sessions SET title = ? WHERE id = ? AND title = ''")
          .run(titleOf(text), sessionId);
      }
    });
  }

  appendSummary(sessionId: string, text: string, now = new Date()): number {
    return this.append(sessionId, "summary", null, text, now);
  }

  entries(sessionId: string): SessionEntry[] {
    return this.db
      .query<EntryRow, [string]>(
        "SELECT seq, kind, role, content, created_at FROM code_entries WHERE session_id = ? ORDER BY seq",
      )
      .all(sessionId)
      .map((row) =>
        row.kind === "summary"
          ? { seq: row.seq, kind: "summary", text: row.content, createdAt: row.created_at }
          : {
              seq: row.seq,
              kind: "message",
              message: { role: row.role ?? "user", content: JSON.parse(row.content) },
              createdAt: row.created_at,
            },
      );
  }

  /** What the model sees when the session goes on: the last summary, then every later message. */
  conversation(sessionId: string): Message[] {
    const entries = this.entries(sessionId);
    let start = 0;
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]?.kind === "summary") {
        start = i;
        break;
      }
    }
    const messages: Message[] = [];
    for (const entry of entries.slice(start)) {
      messages.push(entry.kind === "summary" ? summaryMessage(entry.text) : entry.message);
    }
    return messages;
  }

  addUsage(sessionId: string, usage: Usage, costUsd: number): void {
    this.db
      .query(
        `UPDATE code_sessions SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
         cache_read_tokens = cache_read_tokens + ?, cache_write_tokens = cache_write_tokens + ?,
         cost_usd = cost_usd + ? WHERE id = ?`,
      )
      .run(
        usage.inputTokens,
        usage.outputTokens,
        usage.cacheReadTokens ?? 0,
        usage.cacheWriteTokens ?? 0,
        costUsd,
        sessionId,
      );
  }

  setModel(sessionId: string, model: string): void {
    this.db.query("UPDATE code_sessions SET model = ? WHERE id = ?").run(model, sessionId);
  }

  remove(ref: string): SessionRecord {
    const record = this.get(ref);
    this.db.query("DELETE FROM code_sessions WHERE id = ?").run(record.id);
    return record;
  }

  private append(
    sessionId: string,
    kind: "message" | "summary",
    role: string | null,
    content: string,
    now: Date,
    alsoInTransaction?: () => void,
  ): number {
    const at = now.toISOString();
    return this.db
      .transaction(() => {
        const next = this.db
          .query<{ seq: number }, [string]>(
            "SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM code_entries WHERE session_id = ?",
          )
          .get(sessionId) as { seq: number };
        this.db
          .query(
            "INSERT INTO code_entries (session_id, seq, kind, role, content, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          )
          .run(sessionId, next.seq, kind, role, content, at);
        this.db.query("UPDATE code_sessions SET updated_at = ? WHERE id = ?").run(at, sessionId);
        alsoInTransaction?.();
        return next.seq;
      })
      .immediate();
  }
}

const SELECT = `SELECT s.*, (SELECT COUNT(*) FROM code_entries e WHERE e.session_id = s.id AND e.kind = 'message') AS messages
  FROM code_sessions s`;

function toRecord(row: SessionRow): SessionRecord {
  const usage: TurnUsage = {
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cacheReadTokens: row.cache_read_tokens,
    cacheWriteTokens: row.cache_write_tokens,
    costUsd: row.cost_usd,
  };
  return {
    id: row.id,
    title: row.title,
    cwd: row.cwd,
    model: row.model,
    parentId: row.parent_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    messages: row.messages,
    costUsd: row.cost_usd,
    usage,
  };
}

function firstUserText(message: Message): string | undefined {
  if (message.role !== "user") return undefined;
  for (const block of message.content) if (block.type === "text" && block.text.trim()) return block.text;
  return undefined;
}

function titleOf(text: string): string {
  const line = text.trim().replace(/\s+/g, " ");
  return line.length <= TITLE_LENGTH ? line : `${line.slice(0, TITLE_LENGTH - 1)}…`;
}
