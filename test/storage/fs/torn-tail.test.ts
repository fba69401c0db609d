/**
 * A torn tail is a tail whatever the clean-shutdown marker says: bytes after the last whole batch
 * of the active (last) segment — garbage, a batch whose length is negative or huge, a partial
 * header or batch — are cut back to the last whole batch, after a clean close as after a crash.
 * Damage that is not a tail (whole batches follow it, or it is in a sealed segment) stays
 * STORAGE_CORRUPT naming the file and the byte position.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchLastOffset } from 'kafkalite';
import {
  ALL,
  append,
  crashCopy,
  expectBatches,
  fileSize,
  flipBit,
  makeBatch,
  openStorage,
  place,
  randomBytes,
  readAll,
  rejection,
  rng,
  segments,
  tempDir,
  useStorages,
  type Placed,
} from './fs-helpers.js';

const { dirs, track, closeAll } = useStorages();

type Shutdown = 'clean' | 'crash';
const SHUTDOWNS: Shutdown[] = ['clean', 'crash'];

/** A log of 20 batches or more over several 2000-byte segments (three batches in the last at least), flushed, then shut down as asked. */
async function shutDownLog(shutdown: Shutdown): Promise<{ dir: string; appended: Buffer[]; placed: Placed[] }> {
  const dir = tempDir('tail');
  dirs.push(dir);
  const storage = await track(openStorage(dir, {}, { segmentBytes: 2000 }));
  const log = storage.log('t', 0);
  const appended: Buffer[] = [];
  const inActive = (): number => place(join(dir, 't-0'), appended).filter((p, _, all) => p.segment.base === all.at(-1)!.segment.base).length;
  for (let i = 0; i < 20 || inActive() < 3; i++) appended.push(await append(log, { records: 2, valueSize: 100, headers: i % 3 === 0 }));
  await log.flush();
  const target = shutdown === 'crash' ? crashCopy(dir) : dir;
  if (target !== dir) dirs.push(target);
  await closeAll();
  const placed = place(join(target, 't-0'), appended);
  const segs = segments(join(target, 't-0'));
  expect(segs.length, 'sealed segments and an active one').toBeGreaterThanOrEqual(3);
  expect(placed.filter((p) => p.segment.base === segs.at(-1)!.base).length, 'batches in the active segment').toBeGreaterThanOrEqual(3);
  return { dir: target, appended, placed };
}

/** The batch that would come next after `appended`, as a partition would hand it over. */
const nextBatch = (appended: Buffer[]): Buffer => makeBatch(batchLastOffset(appended.at(-1)!) + 1, { records: 3, valueSize: 60 });

const withLength = (batch: Buffer, length: number): Buffer => {
  const b = Buffer.from(batch);
  b.writeInt32BE(length, 8);
  return b;
};

/** Bytes written after the last batch of the active segment, as a torn or garbled write leaves them. */
const TAILS: { name: string; bytes: (next: Buffer) => Buffer }[] = [
  { name: 'garbage', bytes: () => randomBytes(rng(7), 300) },
  { name: 'zeros', bytes: () => Buffer.alloc(150) },
  { name: 'a batch with a negative length', bytes: (next) => withLength(next, -20) },
  { name: 'a batch with a huge length', bytes: (next) => withLength(next, 0x7fffffff) },
  { name: 'a batch whose length runs just past the end', bytes: (next) => withLength(next, next.length - 12 + 1) },
  { name: 'a partial header', bytes: (next) => next.subarray(0, 30) },
  { name: 'a header and part of the records', bytes: (next) => next.subarray(0, next.length - 9) },
];

/** Opens `dir`, expects exactly `kept` and a file cut to `cutAt`, then appends and reopens. */
async function expectCutTo(dir: string, kept: Buffer[], log: string, cutAt: number): Promise<void> {
  const storage = await track(openStorage(dir));
  const partition = storage.log('t', 0);
  const end = batchLastOffset(kept.at(-1)!) + 1;
  expect(partition.logEndOffset, 'logEndOffset: the end of the last whole batch').toBe(end);
  expectBatches(await readAll(partition), kept, 'after opening');
  expect(fileSize(log), `${basename(log)} is cut back to the last whole batch`).toBe(cutAt);
  const next = makeBatch(end, { records: 1, valueSize: 10 });
  await partition.append(Buffer.from(next));
  expectBatches(await partition.read(end, ALL), [next], 'an append after the cut');
  await closeAll();
  const again = await track(openStorage(dir));
  expectBatches(await readAll(again.log('t', 0)), [...kept, next], 'after a clean reopen');
  await closeAll();
}

describe('a torn tail of the active segment is cut back to the last whole batch', () => {
  for (const shutdown of SHUTDOWNS) {
    for (const tail of TAILS) {
      it(`${tail.name} after the last batch, ${shutdown} shutdown`, async () => {
        const { dir, appended, placed } = await shutDownLog(shutdown);
        const last = placed.at(-1)!.segment.log;
        const size = fileSize(last);
        appendFileSync(last, tail.bytes(nextBatch(appended)));
        expect(fileSize(last)).toBeGreaterThan(size);
        await expectCutTo(dir, appended, last, size);
      });
    }

    for (const [name, length] of [
      ['negative', -1],
      ['huge', 0x7fff_fff0],
    ] as const) {
      it(`the last batch's own length garbled (${name}), ${shutdown} shutdown: that batch is the tail`, async () => {
        const { dir, appended, placed } = await shutDownLog(shutdown);
        const victim = placed.at(-1)!;
        const bytes = readFileSync(victim.segment.log);
        bytes.writeInt32BE(length, victim.position + 8);
        writeFileSync(victim.segment.log, bytes);
        await expectCutTo(dir, appended.slice(0, -1), victim.segment.log, victim.position);
      });
    }

    it(`the last batch with a flipped bit in its records, ${shutdown} shutdown: that batch is the tail`, async () => {
      const { dir, appended, placed } = await shutDownLog(shutdown);
      const victim = placed.at(-1)!;
      flipBit(victim.segment.log, victim.position + victim.batch.length - 3, 5);
      await expectCutTo(dir, appended.slice(0, -1), victim.segment.log, victim.position);
    });
  }
});

describe('damage that is not a tail stays STORAGE_CORRUPT', () => {
  const garbles: { name: string; garble: (path: string, victim: Placed) => void }[] = [
    { name: 'a negative length', garble: (path, v) => writeLength(path, v.position, -1) },
    { name: 'a huge length', garble: (path, v) => writeLength(path, v.position, 0x7fff_fff0) },
    { name: 'a length one byte short', garble: (path, v) => writeLength(path, v.position, v.batch.length - 12 - 1) },
    { name: 'a flipped bit in its records', garble: (path, v) => flipBit(path, v.position + 70, 1) },
  ];

  for (const shutdown of SHUTDOWNS) {
    for (const { name, garble } of garbles) {
      it(`a batch of the active segment with ${name}, whole batches after it, ${shutdown} shutdown: open refuses`, async () => {
        const { dir, placed } = await shutDownLog(shutdown);
        const lastBase = placed.at(-1)!.segment.base;
        const inLast = placed.filter((p) => p.segment.base === lastBase);
        const victim = inLast.at(-2)!; // one whole batch follows it
        const size = fileSize(victim.segment.log);
        garble(victim.segment.log, victim);
        const error = await rejection(() => openStorage(dir));
        expect(error.code, error.message).toBe('STORAGE_CORRUPT');
        expect(error.message).toContain(`${basename(victim.segment.log)} is damaged at byte ${victim.position}`);
        expect(fileSize(victim.segment.log), 'nothing was cut').toBe(size);
      });
    }

    it(`garbage after the last batch of a sealed segment, ${shutdown} shutdown: refused, never cut`, async () => {
      const { dir, placed } = await shutDownLog(shutdown);
      const sealed = placed[0]!.segment;
      const size = fileSize(sealed.log);
      appendFileSync(sealed.log, randomBytes(rng(3), 200));
      // After a crash every segment is read at open; after a clean close sealed segments are
      // trusted at open, and the first read of the damaged one refuses it.
      const error = await rejection(async () => readAll((await track(openStorage(dir))).log('t', 0)));
      expect(error.code, error.message).toBe('STORAGE_CORRUPT');
      expect(error.message).toContain(`${basename(sealed.log)} is damaged at byte ${size}`);
      expect(fileSize(sealed.log), 'nothing was cut').toBe(size + 200);
    });
  }
});

function writeLength(path: string, position: number, length: number): void {
  const bytes = readFileSync(path);
  bytes.writeInt32BE(length, position + 8);
  writeFileSync(path, bytes);
}
