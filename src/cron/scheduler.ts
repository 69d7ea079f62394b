/**
 * The scheduler: sleeps until the earliest due time of any job (not a minute tick), claims each due
 * time in the database before running it, applies the overlap policy, and after a downtime records
 * or runs the missed due times by the catch-up policy. Time comes from an injected clock.
 */

import { isSameProcessAlive } from "../box/process.ts";
import { logger } from "../core/log.ts";
import { type ExecuteDeps, executeRun } from "./execute.ts";
import { killOrphanGroup } from "./runner.ts";
import type { Owner, Run, Trigger } from "./runs.ts";
import { nextRun, slotsBetween } from "./schedule.ts";
import type { CatchUp, Job, JobStore } from "./store.ts";

const log = logger("cron.scheduler");

/**
 * The longest sleep: timers count monotonic time, which stands still while a machine is suspended
 * and ignores wall-clock corrections, so the scheduler looks at the wall clock at least this often.
 */
export const MAX_SLEEP_MS = 5 * 60_000;
/** A due time handled later than this (the scheduler was down or suspended) counts as missed. */
export const LATE_TOLERANCE_MS = 60_000;
/** At most this many missed due times per job are recorded (or run) after a downtime. */
export const MAX_MISSED = 100;

export interface SchedulerDeps extends Omit<ExecuteDeps, "signal"> {
  jobs: JobStore;
  owner: Owner;
  /** The default for jobs that do not set their own. */
  catchUp: CatchUp;
  /** One line per event (run started, finished, skipped), for the daemon's stderr. */
  report?: (line: string) => void;
}

interface JobState {
  job: Job;
  /** The latest time up to which due times have been dealt with. */
  cursor: number;
  next: number | undefined;
  running: Set<number>;
  queue: Run[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** What decides when a job is due; any change to it reschedules the job. */
const fingerprint = (job: Job) =>
  `${job.expression}\u0000${job.timezone}\u0000${job.enabled}\u0000${job.updatedAt}`;

export class Scheduler {
  private readonly states = new Map<string, JobState>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private wakeUp: AbortController | undefined;
  private dirty = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Cleans up after a scheduler that died, then loads the jobs. */
  start(): void {
    this.recover();
    this.reload();
  }

  /** Jobs changed in the database: re-read them at once (the daemon calls this on SIGUSR1). */
  wake(): void {
    this.dirty = true;
    this.wakeUp?.abort();
  }

  /** The earliest due time over all enabled jobs. */
  nextWake(): number | undefined {
    let earliest: number | undefined;
    for (const state of this.states.values()) {
      if (state.next !== undefined && (earliest === undefined || state.next < earliest))
        earliest = state.next;
    }
    return earliest;
  }

  /** Runs until `signal` aborts, then stops running jobs and waits for their records. */
  async loop(signal: AbortSignal): Promise<void> {
    this.start();
    while (!signal.aborted) {
      if (this.dirty) {
        this.dirty = false;
        this.reload();
      }
      const next = this.tick();
      const wait =
        next === undefined ? MAX_SLEEP_MS : Math.min(Math.max(next - this.deps.clock.now(), 0), MAX_SLEEP_MS);
      const wakeUp = new AbortController();
      this.wakeUp = wakeUp;
      const stop = () => wakeUp.abort();
      signal.addEventListener("abort", stop, { once: true });
      if (!this.dirty) await this.deps.clock.sleep(wait, wakeUp.signal);
      signal.removeEventListener("abort", stop);
    }
    await this.stop();
  }

  /** Kills running jobs (recorded as failed), drops queued ones (skipped), waits for the records. */
  async stop(): Promise<void> {
    this.stopping.abort();
    const now = iso(this.deps.clock.now());
    for (const state of this.states.values()) {
      for (const run of state.queue.splice(0))
        this.deps.runs.abandon(run.id, "skipped", "the scheduler stopped before it ran", now);
    }
    await this.drain();
  }

  /** Waits until no run is in flight (queued runs included). */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Re-reads every job: new ones are scheduled, edited ones rescheduled from the edit, removed ones dropped. */
  reload(): void {
    const now = this.deps.clock.now();
    const seen = new Set<string>();
    const updates: Array<{ id: string; nextRunAt: string | null }> = [];
    for (const job of this.deps.jobs.list()) {
      seen.add(job.id);
      let state = this.states.get(job.id);
      if (state === undefined) {
        const anchor = Math.max(Date.parse(job.lastScheduledAt ?? job.createdAt), Date.parse(job.updatedAt));
        state = { job, cursor: anchor, next: undefined, running: new Set(), queue: [] };
        this.states.set(job.id, state);
      } else if (fingerprint(state.job) !== fingerprint(job)) {
        // Due times before an edit (or a pause) are not missed runs of the new definition.
        state.cursor = Math.max(state.cursor, Date.parse(job.updatedAt));
        state.job = job;
      } else {
        state.job = job;
        if (state.next !== undefined || !job.enabled) continue;
      }
      state.next = job.enabled ? nextRun(job.expression, job.timezone, state.cursor) : undefined;
      // Shown by `ls`: a missed due time is run (or recorded) now, so show the next one after now.
      const shown =
        state.next !== undefined && state.next <= now
          ? nextRun(job.expression, job.timezone, now)
          : state.next;
      updates.push({ id: job.id, nextRunAt: shown === undefined ? null : iso(shown) });
    }
    for (const id of this.states.keys()) if (!seen.has(id)) this.states.delete(id);
    if (updates.length > 0) this.deps.jobs.setNextRuns(updates);
  }

  /** Deals with every due time up to now; returns the next time anything is due. */
  tick(): number | undefined {
    const now = this.deps.clock.now();
    const updates: Array<{ id: string; nextRunAt: string | null }> = [];
    for (const state of this.states.values()) {
      if (state.next === undefined || state.next > now) continue;
      const { job } = state;
      const slots = slotsBetween(job.expression, job.timezone, state.cursor, now, MAX_MISSED + 1);
      state.cursor = now;
      this.handleDue(state, slots.times, slots.more, now);
      state.next = nextRun(job.expression, job.timezone, now);
      updates.push({ id: job.id, nextRunAt: state.next === undefined ? null : iso(state.next) });
    }
    if (updates.length > 0) this.deps.jobs.setNextRuns(updates);
    return this.nextWake();
  }

  private handleDue(state: JobState, times: number[], more: boolean, now: number): void {
    const { job } = state;
    const latest = times.at(-1);
    const onTime = latest !== undefined && now - latest <= LATE_TOLERANCE_MS ? latest : undefined;
    const missed = onTime === undefined ? times : times.slice(0, -1);
    const policy = job.catchUp ?? this.deps.catchUp;
    if (more)
      log.warn(`${job.name}: more than ${MAX_MISSED} due times were missed; only the latest are recorded`);
    missed.forEach((slot, index) => {
      const run =
        policy === "all" || (policy === "last" && index === missed.length - 1 && onTime === undefined);
      if (run) {
        this.claimAndDispatch(state, "catch-up", slot, true);
      } else {
        const claimed = this.claim(
          state,
          "schedule",
          slot,
          `missed: the scheduler was not running at ${iso(slot)}`,
        );
        if (claimed) this.report(`${job.name}: missed ${iso(slot)} (catch-up ${policy})`);
      }
    });
    if (onTime !== undefined) this.claimAndDispatch(state, "schedule", onTime, false);
  }

  private claim(state: JobState, trigger: Trigger, slot: number, skipReason?: string): Run | undefined {
    const run = this.deps.runs.claim({
      job: state.job,
      trigger,
      scheduledFor: iso(slot),
      owner: this.deps.owner,
      now: iso(this.deps.clock.now()),
      ...(skipReason === undefined ? {} : { skipReason }),
    });
    if (!run) log.debug(`${state.job.name}: ${iso(slot)} was already claimed`);
    return run;
  }

  private claimAndDispatch(state: JobState, trigger: Trigger, slot: number, queueAlways: boolean): void {
    const run = this.claim(state, trigger, slot);
    if (!run) return;
    if (state.running.size === 0 || state.job.overlap === "allow") {
      this.launch(state, run);
    } else if (state.job.overlap === "queue" || queueAlways) {
      state.queue.push(run);
      this.report(`${state.job.name}: run ${run.id} queued behind run ${[...state.running][0]}`);
    } else {
      const reason = `overlap: run ${[...state.running][0]} was still running`;
      this.deps.runs.abandon(run.id, "skipped", reason, iso(this.deps.clock.now()));
      this.report(`${state.job.name}: run ${run.id} skipped (${reason})`);
    }
  }

  private launch(state: JobState, run: Run): void {
    state.running.add(run.id);
    this.report(
      `${state.job.name}: run ${run.id} started (${run.trigger} ${run.scheduledFor ?? ""})`.trimEnd(),
    );
    const done = executeRun({ ...this.deps, signal: this.stopping.signal }, state.job, run).then((finish) => {
      state.running.delete(run.id);
      const code = finish.exitCode === null ? "" : `, exit ${finish.exitCode}`;
      this.report(`${state.job.name}: run ${run.id} ${finish.status} in ${finish.durationMs} ms${code}`);
      const queued = state.queue.shift();
      if (queued && !this.stopping.signal.aborted) this.launch(state, queued);
    });
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }

  /** Runs left queued or running by a scheduler (or `cron run`) that is gone: close their records. */
  private recover(): void {
    const now = iso(this.deps.clock.now());
    for (const run of this.deps.runs.unfinished()) {
      const { owner } = run;
      const ours = owner.pid === this.deps.owner.pid && owner.start === this.deps.owner.start;
      if (ours || isSameProcessAlive(owner.pid, owner.start)) continue;
      if (run.status === "running" && run.pid !== null) killOrphanGroup(run.pid, run.pidStart);
      if (run.status === "running") {
        this.deps.runs.abandon(
          run.id,
          "failed",
          `interrupted: its scheduler (pid ${owner.pid}) died during the run`,
          now,
        );
      } else {
        this.deps.runs.abandon(run.id, "skipped", `its scheduler (pid ${owner.pid}) died before it ran`, now);
      }
      this.report(`${run.jobName}: run ${run.id} was left ${run.status} by pid ${owner.pid}; closed`);
    }
  }

  private report(line: string): void {
    log.info(line);
    this.deps.report?.(line);
  }
}
