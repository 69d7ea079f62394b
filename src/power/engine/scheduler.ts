/**
 * Which models are loaded, for how long, and who waits. At most `maxLoaded` models stay in memory;
 * loading another evicts the least recently used idle one (or waits for one to become idle). Each
 * request leaves its model loaded for its keep_alive (0 unloads at once, Infinity never), and
 * requests beyond `maxQueue` waiting ones are refused, as Ollama answers 503.
 */
import { A3sError } from "../../core/errors.ts";

/** What the scheduler needs of a loaded model (ModelRunner, or a test double). */
export interface Loaded<Spec> {
  readonly spec: Spec;
  /** Requests using or waiting for this model's sequences. */
  readonly busy: number;
  dispose(): Promise<void>;
}

export type UnloadReason = "expired" | "evicted" | "requested" | "reloaded" | "shutdown";

export interface SchedulerOptions<Spec, Model extends Loaded<Spec>> {
  maxLoaded: number;
  maxQueue: number;
  load(spec: Spec): Promise<Model>;
  /** Same model, same load options: reuse it. Otherwise it is reloaded once idle. */
  sameLoad(a: Spec, b: Spec): boolean;
  keyOf(spec: Spec): string;
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => { cancel(): void };
  onLoad?(model: Model): void;
  onUnload?(model: Model, reason: UnloadReason): void;
}

interface Slot<Model> {
  model: Promise<Model>;
  /** Set once loading finished. */
  loaded?: Model;
  /** `unload` was asked while requests ran: unload after the last one instead of keeping alive. */
  unloadWhenIdle?: boolean;
  /** Requests holding the slot (loading, waiting or running). */
  users: number;
  lastUsed: number;
  keepAliveMs: number;
  expiresAt: number;
  timer?: { cancel(): void };
  unloading?: Promise<void>;
}

export interface LoadedInfo<Model> {
  model: Model;
  /** Epoch ms when it unloads if unused; Infinity when kept. */
  expiresAt: number;
  users: number;
}

const defaultTimer = (callback: () => void, ms: number) => {
  const handle = setTimeout(callback, ms);
  handle.unref?.();
  return { cancel: () => clearTimeout(handle) };
};

export class Scheduler<Spec, Model extends Loaded<Spec>> {
  private readonly slots = new Map<string, Slot<Model>>();
  private readonly idleWaiters: Array<() => void> = [];
  private waiting = 0;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => { cancel(): void };

  constructor(private readonly options: SchedulerOptions<Spec, Model>) {
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? defaultTimer;
  }

  /** Requests waiting for a model to load or for room to load it. */
  get queued(): number {
    return this.waiting;
  }

  /**
   * Runs `work` with the model of `spec` loaded, then keeps it for `keepAliveMs`. `queuedElsewhere`
   * counts requests waiting inside loaded models (for their sequences), part of the same bound.
   */
  async use<T>(
    spec: Spec,
    keepAliveMs: number,
    work: (model: Model, loadMs: number) => Promise<T>,
    queuedElsewhere = 0,
  ): Promise<T> {
    if (this.waiting + queuedElsewhere >= this.options.maxQueue) {
      throw new A3sError("busy", "server busy, please try again: maximum pending requests exceeded");
    }
    const key = this.options.keyOf(spec);
    this.waiting++;
    let slot: Slot<Model>;
    const started = this.now();
    let model: Model;
    try {
      slot = await this.slotFor(key, spec);
      slot.users++;
      slot.timer?.cancel();
      slot.timer = undefined;
      try {
        model = await slot.model;
      } catch (err) {
        slot.users--;
        if (this.slots.get(key) === slot) this.slots.delete(key);
        this.notifyIdle();
        throw err;
      }
    } finally {
      this.waiting--;
    }
    const loadMs = this.now() - started;
    try {
      return await work(model, loadMs);
    } finally {
      slot.users--;
      slot.lastUsed = this.now();
      slot.keepAliveMs = slot.unloadWhenIdle ? 0 : keepAliveMs;
      slot.expiresAt = keepAliveMs === Number.POSITIVE_INFINITY ? Infinity : slot.lastUsed + keepAliveMs;
      if (slot.users === 0) this.idle(key, slot);
    }
  }

  private async slotFor(key: string, spec: Spec): Promise<Slot<Model>> {
    for (;;) {
      const existing = this.slots.get(key);
      if (existing && !existing.unloading) {
        const model = await existing.model.catch(() => undefined);
        if (this.slots.get(key) !== existing) continue;
        if (!model || this.options.sameLoad(model.spec, spec)) return existing;
        // Loaded with other options (another num_ctx, a new digest): reload once nobody uses it.
        if (existing.users === 0) {
          await this.unload(key, "reloaded");
          continue;
        }
        await this.nextIdle();
        continue;
      }
      if (existing?.unloading) {
        await existing.unloading;
        continue;
      }
      if (this.slots.size >= this.options.maxLoaded) {
        const victim = this.leastRecentlyUsedIdle();
        if (!victim) {
          await this.nextIdle();
          continue;
        }
        await this.unload(victim, "evicted");
        continue;
      }
      const slot: Slot<Model> = {
        model: this.options.load(spec).then((model) => {
          slot.loaded = model;
          this.options.onLoad?.(model);
          return model;
        }),
        users: 0,
        lastUsed: this.now(),
        keepAliveMs: 0,
        expiresAt: Infinity,
      };
      this.slots.set(key, slot);
      return slot;
    }
  }

  private leastRecentlyUsedIdle(): string | undefined {
    let best: [string, Slot<Model>] | undefined;
    for (const entry of this.slots) {
      const [, slot] = entry;
      if (slot.users > 0 || slot.unloading) continue;
      if (!best || slot.lastUsed < best[1].lastUsed) best = entry;
    }
    return best?.[0];
  }

  private idle(key: string, slot: Slot<Model>): void {
    this.notifyIdle();
    if (slot.keepAliveMs === Number.POSITIVE_INFINITY) return;
    if (slot.keepAliveMs <= 0) {
      void this.unload(key, "expired");
      return;
    }
    slot.timer = this.setTimer(() => {
      if (this.slots.get(key) === slot && slot.users === 0) void this.unload(key, "expired");
    }, slot.keepAliveMs);
  }

  private nextIdle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Unloads a model now if nobody uses it; with users, once the last one is done (keep_alive 0). */
  async unload(key: string, reason: UnloadReason = "requested"): Promise<boolean> {
    const slot = this.slots.get(key);
    if (!slot) return false;
    if (slot.unloading) {
      await slot.unloading;
      return true;
    }
    if (slot.users > 0) {
      slot.unloadWhenIdle = true;
      return true;
    }
    slot.timer?.cancel();
    slot.unloading = (async () => {
      const model = await slot.model.catch(() => undefined);
      if (model) {
        await model.dispose();
        this.options.onUnload?.(model, reason);
      }
      this.slots.delete(key);
      this.notifyIdle();
    })();
    await slot.unloading;
    return true;
  }

  /** Loaded models (not those still loading), most recently used first. */
  loaded(): Array<LoadedInfo<Model>> {
    const slots = [...this.slots.values()].filter((slot) => slot.loaded && !slot.unloading);
    return slots
      .sort((a, b) => b.lastUsed - a.lastUsed)
      .map((slot) => ({
        model: slot.loaded as Model,
        // While in use a model's clock has not started; Ollama shows now + keep_alive.
        expiresAt:
          slot.users > 0 && slot.keepAliveMs !== Number.POSITIVE_INFINITY
            ? this.now() + slot.keepAliveMs
            : slot.expiresAt,
        users: slot.users,
      }));
  }

  /** The loaded model of `key`, if any. */
  get(key: string): Model | undefined {
    const slot = this.slots.get(key);
    return slot?.unloading ? undefined : slot?.loaded;
  }

  async close(): Promise<void> {
    await Promise.all([...this.slots.keys()].map((key) => this.unload(key, "shutdown")));
  }
}
