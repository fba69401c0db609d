import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { AppendWaits, type AppendListener, type AppendSource } from '../../src/topic/append-waits.js';

/** A partition stand-in: records its listeners and wakes them all at `append()`. */
class Source implements AppendSource {
  listeners: AppendListener[] = [];
  onAppend(l: AppendListener): void {
    this.listeners.push(l);
  }
  offAppend(l: AppendListener): void {
    this.listeners = this.listeners.filter((x) => x !== l);
  }
  append(): void {
    const ls = this.listeners;
    this.listeners = [];
    for (const l of ls) l.appended();
  }
}

/** Counts the clock's timers that are set and not cleared or fired. */
function countingClock(): { clock: ManualClock; live: () => number } {
  const clock = new ManualClock(0);
  const live = new Set<unknown>();
  const set = clock.setTimeout.bind(clock);
  const clear = clock.clearTimeout.bind(clock);
  clock.setTimeout = (cb, ms) => {
    const t = set(() => {
      live.delete(t);
      return cb();
    }, ms);
    live.add(t);
    return t;
  };
  clock.clearTimeout = (t) => {
    live.delete(t);
    clear(t);
  };
  return { clock, live: () => live.size };
}

describe('AppendWaits (the long-poll waits of fetches)', () => {
  it('resolves true at an append to any of its partitions, and drops its listeners from the others', async () => {
    const { clock } = countingClock();
    const waits = new AppendWaits(clock);
    const a = new Source();
    const b = new Source();
    const w = waits.wait([a, b], 1000);
    b.append();
    await expect(w).resolves.toBe(true);
    expect(a.listeners).toHaveLength(0);
  });

  it('resolves false at its own deadline, however the deadlines of other waits fall', async () => {
    const { clock, live } = countingClock();
    const waits = new AppendWaits(clock);
    const s = new Source();
    const order: string[] = [];
    const long = waits.wait([s], 500).then((woken) => order.push(`long ${woken} at ${clock.now()}`));
    const short = waits.wait([s], 100).then((woken) => order.push(`short ${woken} at ${clock.now()}`));
    expect(live()).toBe(1); // one timer stands for the earliest deadline
    await clock.advance(99);
    expect(order).toEqual([]);
    await clock.advance(1);
    await short;
    await clock.advance(399);
    expect(order).toEqual(['short false at 100']);
    await clock.advance(1);
    await long;
    expect(order).toEqual(['short false at 100', 'long false at 500']);
    expect(live()).toBe(0);
  });

  it('a wait woken early leaves the timer for the others; the timer stops once none is left', async () => {
    const { clock, live } = countingClock();
    const waits = new AppendWaits(clock);
    const s = new Source();
    for (let i = 0; i < 100; i++) {
      const w = waits.wait([s], 1000);
      s.append();
      await expect(w).resolves.toBe(true);
      await clock.advance(5);
    }
    expect(live()).toBeLessThanOrEqual(1);
    await clock.advance(1000);
    expect(live()).toBe(0);
    const late = waits.wait([s], 50);
    expect(live()).toBe(1);
    await clock.advance(50);
    await expect(late).resolves.toBe(false);
  });

  it('an abort ends every wait on that signal (and only those); an aborted signal does not wait at all', async () => {
    const { clock } = countingClock();
    const waits = new AppendWaits(clock);
    const s = new Source();
    const ac = new AbortController();
    const other = waits.wait([s], 1000);
    const one = waits.wait([s], 1000, ac.signal);
    const two = waits.wait([s], 1000, ac.signal);
    ac.abort();
    await expect(one).resolves.toBe(false);
    await expect(two).resolves.toBe(false);
    expect(s.listeners).toHaveLength(1);
    await expect(waits.wait([s], 1000, ac.signal)).resolves.toBe(false);
    s.append();
    await expect(other).resolves.toBe(true);
  });

  it('many waits started and ended interleaved (not awaited one by one) each settle exactly once', async () => {
    const { clock } = countingClock();
    const waits = new AppendWaits(clock);
    const sources = [new Source(), new Source(), new Source()];
    const results: boolean[] = [];
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      all.push(waits.wait([sources[i % 3]!], 10 + (i % 7)).then((w) => results.push(w)));
      if (i % 5 === 0) sources[i % 3]!.append();
      if (i % 50 === 0) await clock.advance(3);
    }
    await clock.advance(100);
    await Promise.all(all);
    expect(results).toHaveLength(300);
    expect(sources.every((s) => s.listeners.length === 0)).toBe(true);
  });
});

describe('AppendWaits.close', () => {
  it('ends every wait, stops the timer, and answers later waits at once', async () => {
    const { clock, live } = countingClock();
    const waits = new AppendWaits(clock);
    const s = new Source();
    const w = waits.wait([s], 1000);
    expect(live()).toBe(1);
    waits.close();
    await expect(w).resolves.toBe(false);
    expect(live()).toBe(0);
    expect(s.listeners).toHaveLength(0);
    await expect(waits.wait([s], 1000)).resolves.toBe(false);
    expect(live()).toBe(0);
  });
});

describe('AppendWaits after the last client stops', () => {
  it('an abort that leaves no wait stops the timer (a closing consumer leaves no timer behind)', async () => {
    const { clock, live } = countingClock();
    const waits = new AppendWaits(clock);
    const s = new Source();
    const ac = new AbortController();
    const w = waits.wait([s], 1000, ac.signal);
    s.append(); // woken by an append: the timer stays armed for whoever waits next
    await expect(w).resolves.toBe(true);
    expect(live()).toBe(1);
    ac.abort(); // the consumer closes (its wake aborts its signal)
    expect(live()).toBe(0);
  });
});
