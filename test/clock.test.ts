import { describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from 'kafkalite';

describe('ManualClock', () => {
  it('starts where told and moves only on advance', async () => {
    const clock = new ManualClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('fires due timers in time order, at their time, and not the others', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimeout(() => void fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => void fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => void fired.push(`c@${clock.now()}`), 30);
    await clock.advance(25);
    expect(fired).toEqual(['a@10', 'b@20']);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(5);
    expect(fired).toEqual(['a@10', 'b@20', 'c@30']);
  });

  it('fires timers set by timers that fall due in the same advance', async () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => void fired.push(clock.now()), 5);
    }, 10);
    await clock.advance(100);
    expect(fired).toEqual([10, 15]);
  });

  it('waits for the work a timer starts', async () => {
    const clock = new ManualClock();
    let done = false;
    clock.setTimeout(async () => {
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      done = true;
    }, 1);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('does not fire a cleared timer', async () => {
    const clock = new ManualClock();
    let fired = false;
    const t = clock.setTimeout(() => void (fired = true), 5);
    clock.clearTimeout(t);
    await clock.advance(10);
    expect(fired).toBe(false);
  });

  it('rejects a negative or non-finite advance', async () => {
    const clock = new ManualClock();
    await expect(clock.advance(-1)).rejects.toThrow(/advance\(ms\).*-1/);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(/NaN/);
    expect(clock.now()).toBe(0);
  });
});

describe('SystemClock', () => {
  it('tells the real time and runs real timers', async () => {
    const clock = new SystemClock();
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(1000);
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 1));
  });
});
