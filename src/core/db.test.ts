import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Migration, openDatabase, schemaVersion } from "./db.ts";
import { A3sError } from "./errors.ts";

const tempDb = () => join(mkdtempSync(join(tmpdir(), "a3s-db-")), "a3s.db");

const migrations: Migration[] = [
  { version: 1, name: "items", up: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)" },
  {
    version: 2,
    name: "items.size",
    up: (db) => {
      db.run("ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0");
      db.run("CREATE INDEX items_name ON items(name)");
    },
  },
];

describe("openDatabase", () => {
  test("runs migrations in order and records the version", () => {
    const db = openDatabase(tempDb(), migrations);
    expect(schemaVersion(db)).toBe(2);
    db.run("INSERT INTO items (name, size) VALUES ('a', 3)");
    expect(db.query("SELECT name, size FROM items").all()).toEqual([{ name: "a", size: 3 }]);
    db.close();
  });

  test("uses WAL and a busy timeout", () => {
    const db = openDatabase(tempDb(), migrations);
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect((db.query("PRAGMA busy_timeout").get() as { timeout: number }).timeout).toBeGreaterThanOrEqual(
      5000,
    );
    db.close();
  });

  test("reopening applies only new migrations", () => {
    const path = tempDb();
    openDatabase(path, migrations.slice(0, 1)).close();
    const db = openDatabase(path, migrations);
    expect(schemaVersion(db)).toBe(2);
    db.close();
  });

  test("a failing migration rolls back entirely", () => {
    const path = tempDb();
    const broken: Migration[] = [
      migrations[0]!,
      {
        version: 2,
        name: "broken",
        up: (db) => {
          db.run("CREATE TABLE half (x)");
          db.run("THIS IS NOT SQL");
        },
      },
    ];
    expect(() => openDatabase(path, broken)).toThrow();
    const db = openDatabase(path, []);
    expect(schemaVersion(db)).toBe(0);
    expect(db.query("SELECT name FROM sqlite_master WHERE type='table'").all()).toEqual([]);
    db.close();
  });

  test("a database newer than this binary is a conflict", () => {
    const path = tempDb();
    openDatabase(path, migrations).close();
    try {
      openDatabase(path, migrations.slice(0, 1));
      throw new Error("expected a conflict");
    } catch (err) {
      expect(err).toBeInstanceOf(A3sError);
      expect((err as A3sError).code).toBe("conflict");
    }
  });

  test("misnumbered migrations are a programming error", () => {
    expect(() => openDatabase(tempDb(), [{ ...migrations[1]!, version: 3 }])).toThrow(/numbered 3/);
  });

  test("concurrent processes opening and writing the same database all succeed", async () => {
    const path = tempDb();
    const script = `
      const { openDatabase } = await import(${JSON.stringify(join(import.meta.dir, "db.ts"))});
      const migrations = ${JSON.stringify(migrations.slice(0, 1))};
      const db = openDatabase(process.env.DB_PATH, migrations);
      for (let i = 0; i < 200; i++) db.run("INSERT INTO items (name) VALUES (?)", ["p" + process.pid]);
      db.close();
    `;
    const workers = Array.from({ length: 4 }, () =>
      Bun.spawn([process.execPath, "-e", script], {
        env: { ...process.env, DB_PATH: path },
        stderr: "pipe",
        stdout: "pipe",
      }),
    );
    const codes = await Promise.all(workers.map((w) => w.exited));
    const stderr = await Promise.all(workers.map((w) => new Response(w.stderr).text()));
    expect({ codes, stderr }).toEqual({ codes: [0, 0, 0, 0], stderr: ["", "", "", ""] });
    const db = openDatabase(path, migrations.slice(0, 1));
    expect((db.query("SELECT count(*) AS n FROM items").get() as { n: number }).n).toBe(800);
    db.close();
  });
});
