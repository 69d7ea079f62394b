/**
 * Time as the scheduler and the runner see it. The system clock sleeps with real timers; the manual
 * clock only moves when told to, so scheduler tests cover hours of schedule without waiting.
 */

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
};

interface Sleeper {
  at: number;
  resolve: () => void;
}

export class ManualClock implements Clock {
  private time: number;
  private sleepers: Sleeper[] = [];
  private watchers: Array<() => void> = [];

  constructor(start: number) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        at: this.time + Math.max(0, ms),
        resolve: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          signal?.removeEventListener("abort", sleeper.resolve);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener("abort", sleeper.resolve, { once: true });
      for (const watch of this.watchers.splice(0)) watch();
    });
  }

  /** How many sleeps are pending. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** The earliest time a pending sleep ends. */
  get nextWake(): number | undefined {
    return this.sleepers.reduce<number | undefined>(
      (min, s) => (min === undefined || s.at < min ? s.at : min),
      undefined,
    );
  }

  /** Resolves once at least `count` sleeps are pending (a run reached its backoff, a timeout is armed). */
  async untilSleeping(count = 1): Promise<void> {
    while (this.sleepers.length < count) await new Promise<void>((resolve) => this.watchers.push(resolve));
  }

  /** Moves time forward, ending every sleep due by then, in order; lets their continuations run. */
  async advance(ms: number): Promise<void> {
    await this.set(this.time + ms);
  }

  async set(time: number): Promise<void> {
    for (;;) {
      const due = this.sleepers.filter((s) => s.at <= time).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.at);
      due.resolve();
      await settle();
    }
    this.time = Math.max(this.time, time);
    await settle();
  }
}

/** Lets pending promise continuations run (several hops: a resolved sleep wakes a chain of awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
