/**
 * Retention on disk: size retention deletes whole old segments — their files go (renamed
 * `.deleted`, then removed in the background) and logStartOffset moves to the next segment's
 * base; time retention past every record empties the log but keeps its end, across a reopen
 * (clean or after a crash), and the log takes appends there.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchBaseOffset, batchLastOffset } from 'kafkalite';
import { ALL, append, crashCopy, expectBatches, fileSize, makeBatch, openStorage, readAll, rng, randomSpec, segments, tempDir, useStorages } from './fs-helpers.js';

const { dirs, track, closeAll } = useStorages();

/** Waits (up to ~1 s, a few turns and short sleeps) until no `.deleted` file is left in `dir`. */
async function deletedFilesGone(dir: string): Promise<string[]> {
  const left = (): string[] => readdirSync(dir).filter((n) => n.endsWith('.deleted'));
  for (let i = 0; i < 10 && left().length > 0; i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 20 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  return left();
}

const FAR_FUTURE = 4_000_000_000_000;

describe('retention with files', () => {
  it('size retention deletes whole old segments and their files; logStartOffset moves to the next segment', async () => {
    const r = rng(99);
    const dir = tempDir('retain');
    dirs.push(dir);
    const storage = await track(openStorage(dir, {}, { segmentBytes: 1024, retentionBytes: 3000 }));
    const log = storage.log('t', 0);
    const appended: Buffer[] = [];
    for (let i = 0; i < 30; i++) appended.push(await append(log, randomSpec(r, 4, 150)));
    await log.flush();
    const part = join(dir, 't-0');
    const before = segments(part);
    expect(before.length, 'several segments').toBeGreaterThanOrEqual(5);

    // The rule, by segment: drop from the front while what is left still holds retentionBytes.
    const sizes = before.map((s) => fileSize(s.log));
    let total = sizes.reduce((a, b) => a + b, 0);
    let drop = 0;
    while (drop < before.length - 1 && total - sizes[drop]! >= 3000) total -= sizes[drop++]!;
    expect(drop, 'some segments go').toBeGreaterThan(0);
    const start = before[drop]!.base;

    const returned = await log.applyRetention({ retentionBytes: 3000, retentionMs: -1, now: Date.now() });
    expect(returned).toBe(start);
    expect(log.logStartOffset).toBe(start);
    const end = batchLastOffset(appended.at(-1)!) + 1;
    expect(log.logEndOffset).toBe(end);
    const kept = appended.filter((b) => batchBaseOffset(b) >= start);
    expectBatches(await readAll(log), kept, 'read from 0 after retention');
    expectBatches(await log.read(start, ALL), kept, 'read from logStartOffset');

    for (const seg of before.slice(0, drop)) {
      for (const f of [seg.log, seg.index, seg.timeindex]) expect(existsSync(f), `${f} is gone at once`).toBe(false);
    }
    for (const seg of before.slice(drop)) expect(existsSync(seg.log), `${seg.log} is kept`).toBe(true);
    expect(await deletedFilesGone(part), '.deleted files left after ~1 s').toEqual([]);
    expect(segments(part).map((s) => s.base)).toEqual(before.slice(drop).map((s) => s.base));

    // Again: nothing more to drop.
    expect(await log.applyRetention({ retentionBytes: 3000, retentionMs: -1, now: Date.now() })).toBe(start);

    await closeAll();
    const again = (await track(openStorage(dir))).log('t', 0);
    expect([again.logStartOffset, again.logEndOffset]).toEqual([start, end]);
    expectBatches(await readAll(again), kept, 'after reopening');
  });

  it('time retention past every record empties the log but keeps its end, across reopen and crash', async () => {
    const r = rng(7);
    const dir = tempDir('retain-time');
    dirs.push(dir);
    const storage = await track(openStorage(dir, {}, { segmentBytes: 1024 }));
    const log = storage.log('t', 0);
    const appended: Buffer[] = [];
    for (let i = 0; i < 20; i++) appended.push(await append(log, randomSpec(r, 4, 150)));
    await log.flush();
    const end = batchLastOffset(appended.at(-1)!) + 1;
    const part = join(dir, 't-0');
    const before = segments(part);
    expect(before.length).toBeGreaterThanOrEqual(3);

    // Not yet: the newest records are younger than retentionMs.
    expect(await log.applyRetention({ retentionBytes: -1, retentionMs: 10 ** 12, now: Date.now() })).toBe(0);

    const returned = await log.applyRetention({ retentionBytes: -1, retentionMs: 1000, now: FAR_FUTURE });
    expect(returned).toBe(end);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([end, end]);
    expect(await readAll(log)).toEqual([]);
    expect(await log.read(end, ALL)).toEqual([]);
    for (const seg of before) expect(existsSync(seg.log), `${seg.log} is gone`).toBe(false);
    expect(await deletedFilesGone(part)).toEqual([]);
    const left = segments(part);
    expect(left.map((s) => s.base), 'one empty segment at the end').toEqual([end]);
    expect(fileSize(left[0]!.log)).toBe(0);
    // Twice is the same.
    expect(await log.applyRetention({ retentionBytes: -1, retentionMs: 1000, now: FAR_FUTURE })).toBe(end);
    await log.flush();

    // A crash now: the copy still ends at `end`.
    const copy = crashCopy(dir);
    dirs.push(copy);
    await closeAll();

    for (const [what, folder] of [
      ['clean reopen', dir],
      ['crash', copy],
    ] as const) {
      const s = await track(openStorage(folder));
      const l = s.log('t', 0);
      expect([l.logStartOffset, l.logEndOffset], what).toEqual([end, end]);
      expect(await readAll(l), what).toEqual([]);
      const next = makeBatch(end, { records: 3, valueSize: 12 });
      await l.append(Buffer.from(next));
      expectBatches(await readAll(l), [next], `${what}: appended at the old end`);
      await closeAll();
      const back = (await track(openStorage(folder))).log('t', 0);
      expect([back.logStartOffset, back.logEndOffset], `${what}, reopened`).toEqual([end, end + 3]);
      expectBatches(await readAll(back), [next], `${what}, reopened`);
      await closeAll();
    }
  });
});
