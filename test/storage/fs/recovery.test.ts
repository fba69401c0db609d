/**
 * Crash recovery of FileStorage, with the crash simulated in-process (see `crashCopy`): torn tails
 * of the last segment are cut back to the last whole batch; damage anywhere else — a flipped bit
 * in a sealed segment, or in the last segment with whole batches after it — is STORAGE_CORRUPT,
 * at open after a crash and at read after a clean shutdown, and never wrong data.
 *
 * Everything is seeded: a failure replays with the same seed.
 */
import { appendFileSync, truncateSync } from 'node:fs';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchLastOffset, decodeRecordBatch, type KafkaliteError } from 'kafkalite';
import {
  ALL,
  append,
  crashCopy,
  expectBatches,
  fileSize,
  flipBit,
  int,
  makeBatch,
  openStorage,
  place,
  randomBytes,
  randomSpec,
  readAll,
  rejection,
  removeAll,
  removeCheckpoint,
  rng,
  segments,
  tempDir,
  writeCheckpoint,
  type BatchSpec,
  type Placed,
  useStorages,
} from './fs-helpers.js';

const { dirs, track, closeAll } = useStorages();

/** Bytes 12..15 of a batch (partitionLeaderEpoch) are outside Kafka's CRC, as are bytes 0..7 (baseOffset). */
const EPOCH_FROM = 12;
const EPOCH_TO = 16;

/** Where a byte of a segment file falls: its batch and the byte's offset inside that batch. */
function locate(placed: Placed[], log: string, position: number): { batch: Placed; at: number } {
  const batch = placed.find((p) => p.segment.log === log && p.position <= position && position < p.position + p.batch.length);
  expect(batch, `byte ${position} of ${basename(log)} is in a batch`).toBeDefined();
  return { batch: batch!, at: position - batch!.position };
}

/** The records of a batch, decoded: what a consumer would see. */
function records(batch: Uint8Array): string {
  return JSON.stringify(decodeRecordBatch(batch).records);
}

/**
 * For a flip in partitionLeaderEpoch (outside the CRC by Kafka's design), the storage may not
 * notice: then whatever it returns must decode to exactly the records that were appended.
 */
function expectSameRecords(actual: Uint8Array[], expected: Buffer[]): void {
  expect(actual.map(records)).toEqual(expected.map(records));
}

/** Asserts a STORAGE_CORRUPT naming `log` and a byte position inside `[from, to)`. */
function expectCorruptAt(error: KafkaliteError, log: string, from: number, to: number): void {
  expect(error.code, error.message).toBe('STORAGE_CORRUPT');
  expect(error.message).toContain(basename(log));
  const m = /at byte (\d+)/.exec(error.message);
  expect(m, `a byte position in: ${error.message}`).not.toBeNull();
  const position = Number(m![1]);
  expect(position, error.message).toBeGreaterThanOrEqual(from);
  expect(position, error.message).toBeLessThan(to);
}

// -----------------------------------------------------------------------------------------------

describe('torn tails of the last segment', () => {
  type Damage = 'truncate' | 'garbage' | 'both';
  /** The recovery checkpoint the crash left: none, 0, the last segment's base, or the end of a batch that survives (flushed). */
  type Checkpoint = 'none' | 'zero' | 'last segment' | 'mid';

  const scenario = fc.record({
    seed: fc.integer(),
    batches: fc.integer({ min: 1, max: 14 }),
    segmentBytes: fc.constantFrom(1_073_741_824, 1500, 4000),
    damage: fc.constantFrom<Damage>('truncate', 'garbage', 'both'),
    cut: fc.double({ min: 0, max: 1, noNaN: true }),
    garbage: fc.integer({ min: 1, max: 1024 }),
    checkpoint: fc.constantFrom<Checkpoint>('none', 'zero', 'last segment', 'mid'),
    flushedPick: fc.double({ min: 0, max: 1, noNaN: true }),
  });

  it('recovers exactly the whole batches before the cut, and takes appends again (300 seeded cases)', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (c) => {
        const r = rng(c.seed);
        const dir = tempDir('torn');
        dirs.push(dir);
        const original = await track(openStorage(dir, {}, { segmentBytes: c.segmentBytes }));
        const log = original.log('t', 0);
        const appended: Buffer[] = [];
        for (let i = 0; i < c.batches; i++) appended.push(await append(log, randomSpec(r)));
        await log.flush();

        const copy = crashCopy(dir);
        dirs.push(copy);
        const part = join(copy, 't-0');
        const placed = place(part, appended);
        const last = segments(part).at(-1)!;
        const size = fileSize(last.log);
        const cut = c.damage === 'garbage' ? size : Math.min(size, Math.floor(c.cut * (size + 1)));
        if (c.damage !== 'garbage') truncateSync(last.log, cut);
        if (c.damage !== 'truncate') appendFileSync(last.log, randomBytes(r, c.garbage));
        // What must survive: every batch of the earlier segments, and the whole ones before the cut.
        const kept = placed.filter((p) => p.segment.base !== last.base || p.position + p.batch.length <= cut).map((p) => p.batch);
        const keptInLast = placed.filter((p) => p.segment.base === last.base && p.position + p.batch.length <= cut);
        if (c.checkpoint === 'zero') writeCheckpoint(copy, [['t', 0, 0]]);
        if (c.checkpoint === 'last segment') writeCheckpoint(copy, [['t', 0, last.base]]);
        if (c.checkpoint === 'mid') {
          const flushed = kept[Math.floor(c.flushedPick * kept.length)];
          writeCheckpoint(copy, [['t', 0, flushed === undefined ? 0 : batchLastOffset(flushed) + 1]]);
        }
        const end = keptInLast.length > 0 ? batchLastOffset(keptInLast.at(-1)!.batch) + 1 : last.base;
        expect(end).toBe(kept.length === 0 ? 0 : batchLastOffset(kept.at(-1)!) + 1);

        const recovered = await track(openStorage(copy));
        const rlog = recovered.log('t', 0);
        expect(rlog.logStartOffset).toBe(0);
        expect(rlog.logEndOffset, 'logEndOffset: the end of the last whole batch').toBe(end);
        expectBatches(await readAll(rlog), kept, 'after recovery');
        expect(fileSize(last.log), 'the torn tail is cut off the file').toBe(keptInLast.reduce((n, p) => n + p.batch.length, 0));

        const next = makeBatch(end, { records: 2, valueSize: 20, headers: true });
        await rlog.append(Buffer.from(next));
        await rlog.flush();
        expect(rlog.logEndOffset).toBe(end + 2);
        expectBatches(await rlog.read(end, ALL), [next], 'the batch appended after recovery');
        expectBatches(await readAll(rlog), [...kept, next], 'everything after recovery');

        await closeAll();
        const again = await track(openStorage(copy));
        expectBatches(await readAll(again.log('t', 0)), [...kept, next], 'after a clean reopen');
        await closeAll();
        removeAll(dirs);
      }),
      { seed: 20240611, numRuns: 300, endOnFailure: true },
    );
  }, 60_000);
});

// -----------------------------------------------------------------------------------------------

/** A log over several small segments (segmentBytes 1024), flushed, and a crash copy of it. */
async function severalSegments(r: () => number, count: number, spec: () => BatchSpec) {
  const dir = tempDir('flip');
  dirs.push(dir);
  const original = await track(openStorage(dir, {}, { segmentBytes: 1024 }));
  const log = original.log('t', 0);
  const appended: Buffer[] = [];
  for (let i = 0; i < count; i++) appended.push(await append(log, spec()));
  await log.flush();
  const copy = crashCopy(dir);
  dirs.push(copy);
  removeCheckpoint(copy);
  await closeAll(); // the original now shuts down cleanly
  const placed = place(join(dir, 't-0'), appended);
  return { dir, copy, appended, placed, segs: segments(join(dir, 't-0')) };
}

describe('a flipped bit in a sealed segment', () => {
  it('is STORAGE_CORRUPT on read after a clean shutdown, and at open after a crash (100 seeded cases)', async () => {
    const failures: string[] = [];
    for (let k = 0; k < 100; k++) {
      const r = rng(1000 + k);
      const { dir, copy, appended, placed, segs } = await severalSegments(r, int(r, 8, 16), () => randomSpec(r, 6, 200));
      expect(segs.length, 'several segments').toBeGreaterThanOrEqual(3);
      const sealed = segs[int(r, 0, segs.length - 2)]!;
      const position = int(r, 0, fileSize(sealed.log) - 1);
      const bit = int(r, 0, 7);
      const { batch, at } = locate(placed, sealed.log, position);
      const where = `case ${k}: bit ${bit} of byte ${position} of ${basename(sealed.log)} (byte ${at} of the batch at ${batch.position})`;
      const inEpoch = at >= EPOCH_FROM && at < EPOCH_TO;
      flipBit(sealed.log, position, bit);
      flipBit(join(copy, 't-0', basename(sealed.log)), position, bit);
      const field = at < 8 ? 'baseOffset' : at < 12 ? 'batchLength' : inEpoch ? 'partitionLeaderEpoch' : at < 61 ? 'header' : 'records';
      const bounds = [batch.position, batch.position + batch.batch.length] as const;
      let phase = 'clean';
      try {
        // (a) A clean shutdown scans nothing sealed: the read must find the damage.
        const log = (await track(openStorage(dir))).log('t', 0);
        if (inEpoch) {
          expectSameRecords(await readAll(log).catch(() => appended), appended);
        } else {
          expectCorruptAt(await rejection(() => readAll(log)), sealed.log, ...bounds);
          // Reading from the damaged batch on is refused too: never a wrong batch.
          const from = batchLastOffset(batch.batch);
          expectCorruptAt(await rejection(() => log.read(from, ALL)), sealed.log, ...bounds);
        }
        await closeAll();

        // (b) A crash with no recovery checkpoint scans every segment: open must refuse.
        phase = 'crash';
        if (inEpoch) {
          const opened = await openStorage(copy).catch(() => undefined);
          if (opened !== undefined) {
            await track(Promise.resolve(opened));
            expectSameRecords(await readAll(opened.log('t', 0)), appended);
          }
        } else {
          expectCorruptAt(await rejection(() => openStorage(copy)), sealed.log, ...bounds);
        }
      } catch (error) {
        failures.push(`${where} [${field}], after a ${phase} shutdown: ${String(error).split('\n')[0]}`);
      }
      await closeAll();
      removeAll(dirs);
    }
    expect(failures, 'flips that were not refused').toEqual([]);
  }, 60_000);

  it('is caught even in the 8 baseOffset bytes, which the CRC does not cover (clean shutdown)', async () => {
    const r = rng(77);
    const failures: string[] = [];
    for (let bit = 0; bit < 64; bit += 3) {
      const { dir, placed, segs } = await severalSegments(r, 10, () => ({ records: 3, valueSize: 100 }));
      const sealed = segs[1]!;
      const victim = placed.find((p) => p.segment.base === sealed.base && p.position > 0)!;
      flipBit(sealed.log, victim.position + (7 - (bit >> 3)), bit & 7);
      const s = await track(openStorage(dir));
      const log = s.log('t', 0);
      // A read may hand out the whole batches before the damage (never the damaged one); reading
      // on from there is refused.
      const before = placed.slice(0, placed.indexOf(victim)).map((p) => p.batch);
      const got = await Promise.resolve(log.read(0, ALL)).catch((error: KafkaliteError) => (error.code === 'STORAGE_CORRUPT' ? [] : Promise.reject(error)));
      const bad = got.filter((b, i) => Buffer.compare(b, before[i] ?? Buffer.alloc(0)) !== 0);
      if (bad.length > 0) failures.push(`bit ${bit} of baseOffset ${victim.batch.readBigInt64BE(0)}: read returned ${bad.length} batches not before the damage`);
      try {
        const all = await readAll(log);
        failures.push(`bit ${bit}: reading on returned ${all.length} batches instead of STORAGE_CORRUPT`);
      } catch (error) {
        if ((error as KafkaliteError).code !== 'STORAGE_CORRUPT') failures.push(`bit ${bit}: ${String(error)}`);
      }
      await closeAll();
      removeAll(dirs);
    }
    expect(failures, 'reads that returned batches with a damaged baseOffset').toEqual([]);
  });

  it('does not stop reads that end before the damage', async () => {
    const r = rng(5);
    const { dir, appended, placed, segs } = await severalSegments(r, 12, () => ({ records: 2, valueSize: 120 }));
    const sealed = segs[1]!;
    const inSeg = placed.filter((p) => p.segment.base === sealed.base);
    expect(inSeg.length).toBeGreaterThanOrEqual(2);
    const victim = inSeg[1]!; // the second batch of the segment
    flipBit(sealed.log, victim.position + 40, 2); // inside the CRC-covered header
    const s = await track(openStorage(dir));
    const log = s.log('t', 0);
    const before = appended.slice(0, placed.indexOf(victim));
    // Each batch before the damaged one, alone (maxBytes 1: one batch), is readable.
    for (const b of before) expectBatches(await log.read(batchLastOffset(b), 1), [b], `the batch ending at ${batchLastOffset(b)}`);
  });
});

// -----------------------------------------------------------------------------------------------

describe('damage in the middle of the last segment', () => {
  /** One big segment: a flipped bit in batch `victim`, whole batches after it; a crash copy. */
  async function damagedLast(seed: number, victimPick: (placed: Placed[]) => Placed, offsetInBatch: (b: Placed, r: () => number) => number) {
    const r = rng(seed);
    const dir = tempDir('mid');
    dirs.push(dir);
    const s = await track(openStorage(dir, {}, { segmentBytes: r() < 0.5 ? 2500 : 1_073_741_824 }));
    const log = s.log('t', 0);
    const appended: Buffer[] = [];
    const n = int(r, 3, 14);
    for (let i = 0; i < n; i++) appended.push(await append(log, randomSpec(r, 5, 150)));
    await log.flush();
    // At least three batches in the last segment.
    while (place(join(dir, 't-0'), appended).filter((p, _, all) => p.segment.base === all.at(-1)!.segment.base).length < 3) {
      appended.push(await append(log, { records: 1, valueSize: 10 }));
      await log.flush();
    }
    const copy = crashCopy(dir);
    dirs.push(copy);
    const part = join(copy, 't-0');
    const placed = place(part, appended);
    const victim = victimPick(placed);
    const at = offsetInBatch(victim, r);
    const bit = int(r, 0, 7);
    flipBit(join(part, basename(victim.segment.log)), victim.position + at, bit);
    return { copy, victim, at, bit, placed };
  }

  /** A batch of the last segment with at least one batch after it. */
  const middleOfLast = (r: () => number) => (placed: Placed[]) => {
    const lastBase = placed.at(-1)!.segment.base;
    const candidates = placed.filter((p, i) => p.segment.base === lastBase && i < placed.length - 1);
    return candidates[int(r, 0, candidates.length - 1)]!;
  };

  it('is STORAGE_CORRUPT at open after a crash, not a silent truncation (60 seeded cases)', async () => {
    const failures: string[] = [];
    for (let k = 0; k < 60; k++) {
      const pick = rng(5000 + k);
      const { copy, victim, at, bit, placed } = await damagedLast(
        9000 + k,
        (p) => middleOfLast(pick)(p),
        (b, r) => {
          // Anywhere but the leader epoch (outside the CRC by design: see the sealed-segment test).
          const pos = int(r, 0, b.batch.length - 5);
          return pos >= EPOCH_FROM ? pos + 4 : pos;
        },
      );
      expect(placed.filter((p) => p.segment.base === victim.segment.base).length).toBeGreaterThanOrEqual(2);
      const where = `case ${k}: bit ${bit} of byte ${at} of the batch at ${victim.position} of ${basename(victim.segment.log)}`;
      try {
        const s = await track(openStorage(copy));
        failures.push(`${where}: open succeeded with logEndOffset ${s.log('t', 0).logEndOffset} (was ${batchLastOffset(placed.at(-1)!.batch) + 1})`);
      } catch (error) {
        const e = error as KafkaliteError;
        if (e.code !== 'STORAGE_CORRUPT' || !e.message.includes(basename(victim.segment.log))) failures.push(`${where}: ${String(error)}`);
      }
      await closeAll();
      removeAll(dirs);
    }
    expect(failures, 'damage followed by whole batches that was not refused').toEqual([]);
  }, 60_000);

  it('is STORAGE_CORRUPT when the flipped bit is in batchLength (any of its 31 low bits)', async () => {
    const failures: string[] = [];
    for (let bit = 0; bit < 31; bit++) {
      const dir = tempDir('len');
      dirs.push(dir);
      const s = await track(openStorage(dir));
      const appended: Buffer[] = [];
      for (let i = 0; i < 6; i++) appended.push(await append(s.log('t', 0), { records: 3, valueSize: 80 }));
      await s.log('t', 0).flush();
      const copy = crashCopy(dir);
      dirs.push(copy);
      const seg = segments(join(copy, 't-0'))[0]!;
      const second = appended[0]!.length; // the second batch starts here
      flipBit(seg.log, second + 8 + 3 - (bit >> 3), bit & 7);
      try {
        const c = await track(openStorage(copy));
        failures.push(`bit ${bit}: open succeeded, logEndOffset ${c.log('t', 0).logEndOffset} of 18, log ${fileSize(seg.log)} bytes`);
      } catch (error) {
        if ((error as KafkaliteError).code !== 'STORAGE_CORRUPT') failures.push(`bit ${bit}: ${String(error)}`);
      }
      await closeAll();
      removeAll(dirs);
    }
    expect(failures, 'batches after a damaged batchLength were silently dropped').toEqual([]);
  });

  it('a damaged last batch is a torn tail: cut, and the log goes on', async () => {
    const { copy, placed } = await damagedLast(
      42,
      (p) => p.at(-1)!,
      () => 30,
    );
    const s = await track(openStorage(copy));
    const kept = placed.slice(0, -1).map((p) => p.batch);
    expectBatches(await readAll(s.log('t', 0)), kept);
    const at = s.log('t', 0).logEndOffset;
    expect(at).toBe(batchLastOffset(kept.at(-1)!) + 1);
    await s.log('t', 0).append(makeBatch(at, { records: 1, valueSize: 3 }));
    expect(s.log('t', 0).logEndOffset).toBe(at + 1);
  });
});
