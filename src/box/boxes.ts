/**
 * Box records in SQLite and Docker's rules for finding one: full ID, exact name, or a unique ID prefix.
 */
import type { Database } from "bun:sqlite";
import { A3sError } from "../core/errors.ts";
import type { CpuLimit, PortMapping, RestartPolicy, VolumeMount } from "./runtime/options.ts";

export type BoxStatus = "created" | "running" | "restarting" | "exited" | "dead";
export type RuntimeName = "crun" | "runc" | "runsc";

/** Everything `run`/`create` decided, resolved once and kept with the box so `start` repeats it. */
export interface BoxSpec {
  image: string;
  args: string[];
  env: string[];
  workdir: string;
  user: string;
  hostname: string;
  tty: boolean;
  interactive: boolean;
  readOnly: boolean;
  /** "none": a network namespace with loopback only (the default); "host": the host's network. */
  network?: "none" | "host";
  volumes: VolumeMount[];
  ports: PortMapping[];
  memory?: number;
  cpu?: CpuLimit;
  pidsLimit?: number;
  runtime: RuntimeName;
  isolation: "sandbox" | "microvm";
  /** How a microVM box's CPU is virtualised: kvm, hvf, or QEMU's tcg emulation. */
  accelerator?: "kvm" | "hvf" | "tcg";
  restart: RestartPolicy;
  autoRemove: boolean;
  stopSignal: string;
  stopTimeout: number;
  entrypoint?: string;
  cmd?: string[];
}

export interface BoxRecord {
  id: string;
  name: string;
  imageId: string;
  imageRef: string;
  command: string[];
  spec: BoxSpec;
  labels: Record<string, string>;
  status: BoxStatus;
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  exitCode: number | undefined;
  error: string | undefined;
  supervisorPid: number | undefined;
  supervisorStart: number | undefined;
  restartCount: number;
  stopRequested: boolean;
}

interface BoxRow {
  id: string;
  name: string;
  image_id: string;
  image_ref: string;
  command: string;
  spec: string;
  labels: string;
  status: BoxStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  error: string | null;
  supervisor_pid: number | null;
  supervisor_start: number | null;
  restart_count: number;
  stop_requested: number;
}

export type BoxUpdate = Partial<
  Pick<
    BoxRecord,
    | "status"
    | "startedAt"
    | "finishedAt"
    | "exitCode"
    | "error"
    | "supervisorPid"
    | "supervisorStart"
    | "restartCount"
    | "stopRequested"
  >
>;

const COLUMNS: Record<keyof BoxUpdate, string> = {
  status: "status",
  startedAt: "started_at",
  finishedAt: "finished_at",
  exitCode: "exit_code",
  error: "error",
  supervisorPid: "supervisor_pid",
  supervisorStart: "supervisor_start",
  restartCount: "restart_count",
  stopRequested: "stop_requested",
};

export class BoxStore {
  constructor(private readonly db: Database) {}

  insert(
    box: Omit<
      BoxRecord,
      | "status"
      | "restartCount"
      | "stopRequested"
      | "startedAt"
      | "finishedAt"
      | "exitCode"
      | "error"
      | "supervisorPid"
      | "supervisorStart"
    >,
  ): void {
    try {
      this.db
        .query(
          `INSERT INTO boxes (id, name, image_id, image_ref, command, spec, labels, status, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'created', ?)`,
        )
        .run(
          box.id,
          box.name,
          box.imageId,
          box.imageRef,
          JSON.stringify(box.command),
          JSON.stringify(box.spec),
          JSON.stringify(box.labels),
          box.createdAt,
        );
    } catch (err) {
      if (String(err).includes("UNIQUE constraint failed: boxes.name")) throw nameConflict(box.name, this);
      throw err;
    }
  }

  update(id: string, fields: BoxUpdate): void {
    const entries = Object.entries(fields) as Array<[keyof BoxUpdate, unknown]>;
    if (entries.length === 0) return;
    const sets = entries.map(([key]) => `${COLUMNS[key]} = ?`).join(", ");
    const values = entries.map(([, value]) =>
      value === undefined
        ? null
        : typeof value === "boolean"
          ? Number(value)
          : (value as string | number | null),
    );
    this.db.query(`UPDATE boxes SET ${sets} WHERE id = ?`).run(...values, id);
  }

  /** Replaces the box's spec: its supervisor records there the host ports it really bound. */
  updateSpec(id: string, spec: BoxSpec): void {
    this.db.query("UPDATE boxes SET spec = ? WHERE id = ?").run(JSON.stringify(spec), id);
  }

  /** Records the supervisor's pid unless the supervisor has already recorded itself. */
  claimSupervisor(id: string, pid: number): void {
    this.db.query("UPDATE boxes SET supervisor_pid = ? WHERE id = ? AND supervisor_pid IS NULL").run(pid, id);
  }

  delete(id: string): void {
    this.db.query("DELETE FROM boxes WHERE id = ?").run(id);
  }

  get(id: string): BoxRecord | undefined {
    const row = this.db.query("SELECT * FROM boxes WHERE id = ?").get(id) as BoxRow | null;
    return row ? hydrate(row) : undefined;
  }

  byName(name: string): BoxRecord | undefined {
    const row = this.db.query("SELECT * FROM boxes WHERE name = ?").get(name) as BoxRow | null;
    return row ? hydrate(row) : undefined;
  }

  list(): BoxRecord[] {
    return (this.db.query("SELECT * FROM boxes ORDER BY created_at DESC").all() as BoxRow[]).map(hydrate);
  }

  /** Docker's lookup order: full ID, exact name, then a unique ID prefix. */
  resolve(text: string): BoxRecord {
    const exact = this.get(text) ?? this.byName(text.replace(/^\//, ""));
    if (exact) return exact;
    if (/^[a-f0-9]+$/.test(text)) {
      const rows = this.db.query("SELECT * FROM boxes WHERE id LIKE ?").all(`${text}%`) as BoxRow[];
      if (rows.length > 1) {
        throw new A3sError("conflict", `multiple boxes match '${text}'`, {
          hint: "use more characters of the ID",
        });
      }
      if (rows[0]) return hydrate(rows[0]);
    }
    throw new A3sError("not_found", `No such box: ${text}`);
  }

  /** Names of the boxes created from an image (rmi refuses to remove it while any exist). */
  usersOfImage(imageId: string): string[] {
    const rows = this.db.query("SELECT name FROM boxes WHERE image_id = ?").all(imageId) as Array<{
      name: string;
    }>;
    return rows.map((r) => r.name);
  }
}

function nameConflict(name: string, store: BoxStore): A3sError {
  const holder = store.byName(name);
  return new A3sError(
    "conflict",
    `the box name "/${name}" is already in use${holder ? ` by box ${holder.id.slice(0, 12)}` : ""}`,
    { hint: "remove (or rename) that box to be able to reuse the name", exitCode: 125 },
  );
}

function hydrate(row: BoxRow): BoxRecord {
  return {
    id: row.id,
    name: row.name,
    imageId: row.image_id,
    imageRef: row.image_ref,
    command: JSON.parse(row.command) as string[],
    spec: JSON.parse(row.spec) as BoxSpec,
    labels: JSON.parse(row.labels) as Record<string, string>,
    status: row.status,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    exitCode: row.exit_code ?? undefined,
    error: row.error ?? undefined,
    supervisorPid: row.supervisor_pid ?? undefined,
    supervisorStart: row.supervisor_start ?? undefined,
    restartCount: row.restart_count,
    stopRequested: row.stop_requested === 1,
  };
}
