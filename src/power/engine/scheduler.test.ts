import { describe, expect, test } from "bun:test";
import { expectA3sErrorAsync } from "../../../tests/expect-error.ts";
import { type Loaded, Scheduler, type UnloadReason } from "./scheduler.ts";

interface Spec {
  name: string;
  ctx: number;
}

class Model implements Loaded<Spec> {
  busy = 0;
  disposed = false;
  constructor(readonly spec: Spec) {}
  async dispose() {
    this.disposed = true;
  }
}

/** A scheduler over plain objects, with a manual clock and timers. */
function harness(maxLoaded = 1, maxQueue = 10) {
  let now = 0;
  const timers: Array<{ at: number; fire: () => void; cancelled: boolean }> = [];
  const events: string[] = [];
  const scheduler = new Scheduler<Spec, Model>({
    maxLoaded,
    maxQueue,
    load: async (spec) => new Model(spec),
    sameLoad: (a, b) => a.ctx === b.ctx,
    keyOf: (spec) => spec.name,
    now: () => now,
    setTimer(fire, ms) {
      const timer = { at: now + ms, fire, cancelled: false };
      timers.push(timer);
      return { cancel: () => (timer.cancelled = true) };
    },
    onLoad: (model) => events.push(`load ${model.spec.name}`),
    onUnload: (model, reason: UnloadReason) => events.push(`unload ${model.spec.name} ${reason}`),
  });
  return {
    scheduler,
    events,
    async advance(ms: number) {
      now += ms;
      for (const timer of timers.splice(0)) {
        if (timer.at <= now && !timer.cancelled) timer.fire();
        else if (!timer.cancelled) timers.push(timer);
      }
      await Bun.sleep(0);
    },
  };
}

const A = { name: "a", ctx: 2048 };
const B = { name: "b", ctx: 2048 };
const use = (s: Scheduler<Spec, Model>, spec: Spec, keepAlive = 300_000) =>
  s.use(spec, keepAlive, async (model) => model);

describe("scheduler", () => {
  test("a model loads once and is reused while kept alive", async () => {
    const { scheduler, events } = harness();
    const first = await use(scheduler, A);
    const second = await use(scheduler, A);
    expect(second).toBe(first);
    expect(events).toEqual(["load a"]);
  });

  test("keep_alive expiry unloads; a later request loads again", async () => {
    const { scheduler, events, advance } = harness();
    await use(scheduler, A, 5_000);
    await advance(4_999);
    expect(scheduler.loaded()).toHaveLength(1);
    await advance(1);
    expect(events).toEqual(["load a", "unload a expired"]);
    expect(scheduler.loaded()).toHaveLength(0);
  });

  test("keep_alive 0 unloads right after the request; Infinity never", async () => {
    const { scheduler, events, advance } = harness(2);
    const first = await use(scheduler, A, 0);
    await Bun.sleep(0);
    expect(first.disposed).toBe(true);
    await use(scheduler, B, Number.POSITIVE_INFINITY);
    await advance(10 * 365 * 86_400_000);
    expect(events).toEqual(["load a", "unload a expired", "load b"]);
    expect(scheduler.loaded()[0]?.expiresAt).toBe(Number.POSITIVE_INFINITY);
  });

  test("maxLoaded evicts the least recently used idle model", async () => {
    const { scheduler, events, advance } = harness(2);
    await use(scheduler, A);
    await advance(10);
    await use(scheduler, B);
    await advance(10);
    await use(scheduler, A);
    await use(scheduler, { name: "c", ctx: 2048 });
    expect(events).toEqual(["load a", "load b", "unload b evicted", "load c"]);
  });

  test("a busy model is not evicted: the next model waits until it is idle", async () => {
    const { scheduler, events } = harness(1);
    let finish!: () => void;
    const running = scheduler.use(A, 60_000, () => new Promise<void>((resolve) => (finish = resolve)));
    await Bun.sleep(0);
    let loadedB = false;
    const waiting = use(scheduler, B).then(() => (loadedB = true));
    await Bun.sleep(5);
    expect(loadedB).toBe(false);
    expect(scheduler.queued).toBe(1);
    finish();
    await running;
    await waiting;
    expect(events).toEqual(["load a", "unload a evicted", "load b"]);
  });

  test("other load options reload the model once it is idle", async () => {
    const { scheduler, events } = harness(1);
    await use(scheduler, A);
    const reloaded = await use(scheduler, { name: "a", ctx: 8192 });
    expect(reloaded.spec.ctx).toBe(8192);
    expect(events).toEqual(["load a", "unload a reloaded", "load a"]);
  });

  test("past maxQueue waiting requests, a request is refused as busy", async () => {
    const { scheduler } = harness(1, 2);
    let finish!: () => void;
    const running = scheduler.use(A, 60_000, () => new Promise<void>((resolve) => (finish = resolve)));
    await Bun.sleep(0);
    const queued = [use(scheduler, B), use(scheduler, { name: "c", ctx: 1 })];
    await Bun.sleep(0);
    await expectA3sErrorAsync(use(scheduler, { name: "d", ctx: 1 }), "busy", /maximum pending requests/);
    finish();
    await running;
    await Promise.all(queued);
  });

  test("unload while in use waits for the request, then unloads instead of keeping alive", async () => {
    const { scheduler, events } = harness(1);
    let finish!: () => void;
    const running = scheduler.use(A, 60_000, () => new Promise<void>((resolve) => (finish = resolve)));
    await Bun.sleep(0);
    expect(await scheduler.unload("a")).toBe(true);
    expect(events).toEqual(["load a"]);
    finish();
    await running;
    await Bun.sleep(0);
    expect(events).toEqual(["load a", "unload a expired"]);
    expect(await scheduler.unload("nothing")).toBe(false);
  });

  test("a failed load is reported to its requests and leaves no slot behind", async () => {
    let attempts = 0;
    const scheduler = new Scheduler<Spec, Model>({
      maxLoaded: 1,
      maxQueue: 10,
      load: async (spec) => {
        attempts++;
        if (attempts === 1) throw new Error("bad weights");
        return new Model(spec);
      },
      sameLoad: () => true,
      keyOf: (spec) => spec.name,
    });
    await expect(use(scheduler, A)).rejects.toThrow("bad weights");
    expect(scheduler.loaded()).toHaveLength(0);
    expect((await use(scheduler, A)).spec).toEqual(A);
  });
});
