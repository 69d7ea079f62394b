/**
 * The interface every isolation backend implements (the OCI-runtime sandbox now, the microVM next):
 * run a prepared box until it exits, exec into it, signal it, delete what the backend keeps of it.
 * "create" is preparing the bundle (see bundle.ts); stats come from the box's cgroup (cgroups.ts).
 */
export interface RunIo {
  /** Allocate a terminal of this size for the process (`-t`); stdout and stderr are then one stream. */
  tty?: { cols: number; rows: number };
  /** Keep stdin open for writeStdin (`-i`); otherwise the process reads /dev/null. */
  stdin: boolean;
  onStdout(chunk: Uint8Array): void;
  onStderr(chunk: Uint8Array): void;
}

export interface RunningProcess {
  /** Resolves to the exit code, 128+signal when killed by a signal (Docker's convention). */
  exited: Promise<number>;
  /**
   * Resolves once the box exists for the runtime (exec and signals reach it), or when it has already
   * exited. The box counts as running from then on.
   */
  started?: Promise<void>;
  writeStdin(chunk: Uint8Array): void;
  endStdin(): void;
  resize(cols: number, rows: number): void;
  /** Backends whose processes only the supervisor can reach (a VM) signal them here. */
  signal?(signal: string): void;
  /** Runs another process in the same box (a VM's exec goes through the supervisor's connection). */
  exec?(spec: ExecRequest, io: RunIo): RunningProcess;
}

/** An exec as the attach protocol carries it (see attach.ts Frame.exec). */
export interface ExecRequest {
  args?: string[];
  env?: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  groups?: number[];
  tty?: boolean;
  stdin?: boolean;
}

export interface ExecOptions {
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
}

export interface BoxRuntime {
  readonly name: string;
  /** Starts the box's process from its bundle and keeps it in the foreground until it exits. */
  run(id: string, bundle: string, io: RunIo): RunningProcess;
  exec(id: string, args: string[], options: ExecOptions, io: RunIo): RunningProcess;
  signal(id: string, signal: string): Promise<void>;
  /** The host pid of the box's first process while it runs. */
  pid(id: string): number | undefined;
  /** Removes the runtime's state for the box; safe when there is none. */
  delete(id: string): Promise<void>;
}
