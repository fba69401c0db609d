/**
 * Edges of recovery: a damaged tail found at open after a *clean* shutdown (a torn tail all the
 * same: the marker says how much to read, not what the bytes are — more in torn-tail.test.ts), a
 * segment deletion cut short by a crash, and segments trusted by the recovery checkpoint.
 */
import { existsSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordBatchBuilder, batchBaseOffset, batchLastOffset } from 'kafkalite';
import { setBatchBaseOffset } from '../../../src/codec/record-batch.js';
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
  readAll,
  rejection,
  rng,
  randomSpec,
  segments,
  tempDir,
  timestampOf,
  writeCheckpoint,
  useStorages,
} from './fs-helpers.js';

const { dirs, track, closeAll } = useStorages();

async function logOf(dir: string, count: number, segmentBytes: number, seed: number): Promise<Buffer[]> {
  const r = rng(seed);
  const s = await track(openStorage(dir, {}, { segmentBytes }));
  const appended: Buffer[] = [];
  for (let i = 0; i < count; i++) appended.push(await append(s.log('t', 0), randomSpec(r, 4, 150)));
  await s.log('t', 0).flush();
  return appended;
}

describe('after a clean shutdown', () => {
  it('a damaged last batch of the active segment is a torn tail: cut back to the batch before it', async () => {
    // Until the torn-tail rule applied whatever the clean-shutdown marker says, this was
    // STORAGE_CORRUPT and the broker could not open the folder at all.
    const dir = tempDir('clean-tail');
    dirs.push(dir);
    const appended = await logOf(dir, 6, 1_073_741_824, 1);
    await closeAll(); // every batch was acknowledged and flushed; the shutdown was clean
    const part = join(dir, 't-0');
    const placed = place(part, appended);
    const lastBatch = placed.at(-1)!;
    flipBit(lastBatch.segment.log, lastBatch.position + lastBatch.batch.length - 1, 3); // its last record
    const s = await track(openStorage(dir));
    expect(s.log('t', 0).logEndOffset).toBe(batchLastOffset(appended.at(-2)!) + 1);
    expectBatches(await readAll(s.log('t', 0)), appended.slice(0, -1));
    expect(fileSize(lastBatch.segment.log), 'the damaged batch is cut off').toBe(lastBatch.position);
  });

  it('bytes past the last batch (not written by a clean shutdown) are cut, never read as records', async () => {
    const dir = tempDir('clean-extra');
    dirs.push(dir);
    const appended = await logOf(dir, 4, 1_073_741_824, 2);
    await closeAll();
    const seg = segments(join(dir, 't-0'))[0]!;
    const size = fileSize(seg.log);
    writeFileSync(seg.log, Buffer.alloc(100, 0xab), { flag: 'a' });
    const s = await track(openStorage(dir));
    expect(s.log('t', 0).logEndOffset).toBe(batchLastOffset(appended.at(-1)!) + 1);
    expectBatches(await readAll(s.log('t', 0)), appended);
    expect(fileSize(seg.log), 'the garbage is cut off').toBe(size);
  });
});

describe('after a crash', () => {
  it('finishes a segment deletion cut short (.deleted files) at open', async () => {
    const dir = tempDir('half-deleted');
    dirs.push(dir);
    const appended = await logOf(dir, 20, 1024, 3);
    const copy = crashCopy(dir);
    dirs.push(copy);
    await closeAll();
    const part = join(copy, 't-0');
    const segs = segments(part);
    expect(segs.length).toBeGreaterThanOrEqual(3);
    // The crash hit while retention was deleting the first segment: its files are `.deleted`.
    for (const f of [segs[0]!.log, segs[0]!.index, segs[0]!.timeindex]) renameSync(f, `${f}.deleted`);
    const s = await track(openStorage(copy));
    const log = s.log('t', 0);
    expect(log.logStartOffset).toBe(segs[1]!.base);
    expect(readdirSync(part).filter((n) => n.endsWith('.deleted'))).toEqual([]);
    expectBatches(await readAll(log), appended.filter((b) => batchBaseOffset(b) >= segs[1]!.base));
  });

  it('a torn last batch whose record value holds a copy of an earlier batch is still a torn tail', async () => {
    // A record value may carry the bytes of a whole, valid batch (an archive of batches, a
    // mirror): cutting its batch short must still read as a torn write, not as damage with a
    // valid batch after it.
    const dir = tempDir('torn-embedded');
    dirs.push(dir);
    const s = await track(openStorage(dir));
    const log = s.log('t', 0);
    const appended: Buffer[] = [];
    for (let i = 0; i < 4; i++) appended.push(await append(log, { records: 2, valueSize: 40 }));
    const embedded = appended[0]!; // offsets 0..1: a copy of the log's own first batch
    const end = log.logEndOffset;
    const builder = new RecordBatchBuilder();
    builder.append(timestampOf(end), 'archive', embedded);
    const carrier = Buffer.from(builder.build());
    setBatchBaseOffset(carrier, end);
    await log.append(Buffer.from(carrier));
    await log.flush();
    const copy = crashCopy(dir);
    dirs.push(copy);
    await closeAll();
    const seg = segments(join(copy, 't-0'))[0]!;
    const carrierAt = fileSize(seg.log) - carrier.length;
    const inside = carrier.indexOf(embedded);
    expect(inside, 'the value holds the batch bytes').toBeGreaterThan(0);
    const cut = carrierAt + inside + embedded.length; // torn after the embedded copy, before the batch ends
    expect(cut).toBeLessThan(fileSize(seg.log));
    truncateSync(seg.log, cut);

    const recovered = (await track(openStorage(copy))).log('t', 0);
    expect(recovered.logEndOffset).toBe(end);
    expectBatches(await readAll(recovered), appended);
  });

  it('trusts segments below the recovery checkpoint at open, and still refuses their damage at read', async () => {
    const dir = tempDir('trusted');
    dirs.push(dir);
    const appended = await logOf(dir, 20, 1024, 4);
    const copy = crashCopy(dir);
    dirs.push(copy);
    await closeAll();
    const part = join(copy, 't-0');
    const placed = place(part, appended);
    const segs = segments(part);
    writeCheckpoint(copy, [['t', 0, segs.at(-1)!.base]]);
    const victim = placed.find((p) => p.segment.base === segs[0]!.base && p.position > 0)!;
    flipBit(victim.segment.log, victim.position + 65, 0);
    const s = await track(openStorage(copy));
    const log = s.log('t', 0);
    expect(log.logEndOffset).toBe(batchLastOffset(appended.at(-1)!) + 1);
    const error = await rejection(() => readAll(log));
    expect(error.code).toBe('STORAGE_CORRUPT');
    expect(error.message).toContain(`${basename(victim.segment.log)} is damaged at byte ${victim.position}`);
    // Everything after the damaged segment reads fine, and the log takes appends.
    expectBatches(await log.read(segs[1]!.base, ALL), appended.filter((b) => batchBaseOffset(b) >= segs[1]!.base));
    const end = log.logEndOffset;
    await log.append(makeBatch(end, { records: 1, valueSize: 5 }));
    expect(log.logEndOffset).toBe(end + 1);
    expect(existsSync(join(copy, '.kafka_cleanshutdown'))).toBe(false);
  });
});
