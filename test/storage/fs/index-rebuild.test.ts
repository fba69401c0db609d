/**
 * The log is trusted over its indexes: a `.index` that is missing or garbled (random bytes, a
 * partial entry, entries out of order, zeros) is rebuilt from the `.log`, for sealed and active
 * segments, after a clean shutdown and after a crash — and reads at any offset stay right.
 */
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchLastOffset, type FileStorage } from 'kafkalite';
import {
  ALL,
  append,
  crashCopy,
  expectBatches,
  fileSize,
  int,
  makeBatch,
  modelRead,
  openStorage,
  randomBytes,
  readAll,
  removeAll,
  rng,
  segments,
  splitBatches,
  tempDir,
  writeCheckpoint,
  type SegmentFiles,
  useStorages,
} from './fs-helpers.js';

const { dirs, track, closeAll } = useStorages();

type Garble = 'none' | 'delete' | 'random' | 'partial' | 'reversed' | 'zeros' | 'empty';
const GARBLES: Garble[] = ['none', 'delete', 'random', 'partial', 'reversed', 'zeros'];

function entries(bytes: Buffer): { rel: number; position: number }[] {
  const out: { rel: number; position: number }[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) out.push({ rel: bytes.readInt32BE(at), position: bytes.readInt32BE(at + 4) });
  return out;
}

function garble(path: string, how: Garble, r: () => number): void {
  const bytes = readFileSync(path);
  switch (how) {
    case 'none':
      return;
    case 'delete':
      rmSync(path);
      return;
    case 'random':
      writeFileSync(path, randomBytes(r, int(r, 1, 200)));
      return;
    case 'partial':
      truncateSync(path, Math.max(0, bytes.length - int(r, 1, 7)));
      return;
    case 'zeros':
      writeFileSync(path, Buffer.alloc(bytes.length + 16));
      return;
    case 'empty':
      writeFileSync(path, Buffer.alloc(0));
      return;
    case 'reversed': {
      const list = entries(bytes);
      const order = list.length >= 2 ? [...list].reverse() : [list[0]!, list[0]!];
      const out = Buffer.alloc(order.length * 8);
      order.forEach((e, i) => {
        out.writeInt32BE(e.rel, i * 8);
        out.writeInt32BE(e.position, i * 8 + 4);
      });
      writeFileSync(path, out);
      return;
    }
  }
}

/** A `.index` that is well-formed and true: increasing 8-byte entries at batch starts, each naming that batch's last offset. */
function expectGoodIndex(seg: SegmentFiles, what: string): void {
  const bytes = readFileSync(seg.index);
  expect(bytes.length % 8, `${what}: ${basename(seg.index)} holds whole 8-byte entries`).toBe(0);
  const batches = splitBatches(readFileSync(seg.log));
  const list = entries(bytes);
  if (batches.length > 0) expect(list.length, `${what}: ${basename(seg.index)} has entries`).toBeGreaterThan(0);
  let prev = { rel: -1, position: -1 };
  for (const e of list) {
    expect(e.rel, `${what}: relative offsets increase`).toBeGreaterThan(prev.rel);
    expect(e.position, `${what}: positions increase`).toBeGreaterThan(prev.position);
    const at = batches.find((b) => b.position === e.position);
    expect(at, `${what}: entry at byte ${e.position} is a batch start`).toBeDefined();
    expect(batchLastOffset(at!.batch), `${what}: entry offset is the batch's last offset`).toBe(seg.base + e.rel);
    prev = e;
  }
  const time = readFileSync(seg.timeindex);
  expect(time.length % 12, `${what}: ${basename(seg.timeindex)} holds whole 12-byte entries`).toBe(0);
  for (let at = 12; at < time.length; at += 12) {
    expect(time.readBigInt64BE(at) >= time.readBigInt64BE(at - 12), `${what}: time index timestamps do not decrease`).toBe(true);
  }
}

/** A log of ~20 segments-worth of 4 KiB-spaced index entries: several entries per segment. */
async function bigLog(dir: string, r: () => number): Promise<{ storage: FileStorage; appended: Buffer[] }> {
  const storage = await track(openStorage(dir, {}, { segmentBytes: 12_000 }));
  const log = storage.log('t', 0);
  const appended: Buffer[] = [];
  for (let i = 0; i < 40; i++) appended.push(await append(log, { records: int(r, 1, 4), valueSize: int(r, 100, 700), headers: r() < 0.3 }));
  await log.flush();
  return { storage, appended };
}

describe('index rebuild', () => {
  type Mode = 'clean' | 'crash' | 'crash after a checkpoint';

  for (const mode of ['clean', 'crash', 'crash after a checkpoint'] as Mode[]) {
    it(`rebuilds missing or garbled .index files of sealed and active segments (${mode}, 12 seeded cases)`, async () => {
      for (let k = 0; k < 12; k++) {
        const r = rng(mode.length * 1000 + k);
        const dir = tempDir('index');
        dirs.push(dir);
        const { appended } = await bigLog(dir, r);
        let target = dir;
        if (mode === 'clean') {
          await closeAll();
        } else {
          target = crashCopy(dir);
          dirs.push(target);
          await closeAll();
        }
        const part = join(target, 't-0');
        const segs = segments(part);
        expect(segs.length, 'several segments').toBeGreaterThanOrEqual(3);
        if (mode === 'crash after a checkpoint') writeCheckpoint(target, [['t', 0, segs.at(-1)!.base]]);
        // Every kind of damage on the active segment and on some sealed one, in turn.
        const kinds = segs.map((_, i) => (i === segs.length - 1 ? GARBLES[(k % (GARBLES.length - 1)) + 1]! : GARBLES[int(r, 0, GARBLES.length - 1)]!));
        segs.forEach((seg, i) => garble(seg.index, kinds[i]!, r));
        const what = `${mode} case ${k} (${kinds.join(', ')})`;

        const storage = await track(openStorage(target));
        const log = storage.log('t', 0);
        const end = batchLastOffset(appended.at(-1)!) + 1;
        expect(log.logEndOffset, what).toBe(end);
        for (let q = 0; q < 40; q++) {
          const offset = int(r, 0, end + 1);
          const maxBytes = [1, 700, 5000, ALL][int(r, 0, 3)]!;
          expectBatches(await log.read(offset, maxBytes), modelRead(appended, offset, maxBytes), `${what}: read(${offset}, ${maxBytes})`);
        }
        // One read inside every batch: every segment's index is needed (and so rebuilt).
        for (const b of appended) expectBatches(await log.read(batchLastOffset(b), 1), [b], `${what}: the batch ending at ${batchLastOffset(b)}`);
        const next = makeBatch(end, { records: 3, valueSize: 10 });
        await log.append(Buffer.from(next));
        expectBatches(await readAll(log), [...appended, next], what);
        await closeAll();
        for (const seg of segments(part)) expectGoodIndex(seg, `${what}, ${basename(seg.log)}`);

        // And once more after a clean reopen, with the rebuilt files.
        const again = (await track(openStorage(target))).log('t', 0);
        for (let q = 0; q < 10; q++) {
          const offset = int(r, 0, end + 3);
          expectBatches(await again.read(offset, 5000), modelRead([...appended, next], offset, 5000), `${what}: reopened read(${offset})`);
        }
        await closeAll();
        removeAll(dirs);
      }
    }, 60_000);
  }

  it('rebuilds an empty .index of a non-empty sealed segment (every segment indexes its first batch)', async () => {
    for (const mode of ['clean', 'crash after a checkpoint'] as const) {
      const r = rng(8);
      const dir = tempDir('index-empty');
      dirs.push(dir);
      await bigLog(dir, r);
      const target = mode === 'clean' ? dir : crashCopy(dir);
      if (target !== dir) dirs.push(target);
      await closeAll();
      const segs = segments(join(target, 't-0'));
      if (mode !== 'clean') writeCheckpoint(target, [['t', 0, segs.at(-1)!.base]]);
      for (const seg of segs) garble(seg.index, 'empty', r);
      const log = (await track(openStorage(target))).log('t', 0);
      for (const seg of segs) await log.read(seg.base + 1, 1);
      await closeAll();
      for (const seg of segs) expectGoodIndex(seg, `${mode}, ${basename(seg.log)}`);
      removeAll(dirs);
    }
  });

  it('does not trust a well-formed index whose entries point at the wrong batches', async () => {
    // Increasing entries, positions inside the file: it passes a shape check, yet each entry but
    // the first names an offset lower than its batch really ends at (as a stale index would).
    const r = rng(3);
    const dir = tempDir('index-lie');
    dirs.push(dir);
    const { appended } = await bigLog(dir, r);
    await closeAll();
    const segs = segments(join(dir, 't-0'));
    const sealed = segs[0]!;
    const list = entries(readFileSync(sealed.index));
    expect(list.length, 'several entries in the first segment').toBeGreaterThanOrEqual(2);
    const lie = Buffer.alloc(list.length * 8);
    list.forEach((e, i) => {
      const prev = list[i - 1];
      const rel = prev === undefined ? e.rel : Math.max(prev.rel + 1, e.rel - 3);
      lie.writeInt32BE(rel, i * 8);
      lie.writeInt32BE(e.position, i * 8 + 4);
    });
    expect(Buffer.compare(lie, readFileSync(sealed.index)), 'the index was changed').not.toBe(0);
    writeFileSync(sealed.index, lie);

    const log = (await track(openStorage(dir))).log('t', 0);
    const end = segs[1]!.base;
    for (let offset = 0; offset < end; offset++) {
      expectBatches(await log.read(offset, 1), modelRead(appended, offset, 1), `read(${offset}, 1)`);
    }
  });

  it('keeps time retention working when the .timeindex of sealed segments is missing or partial', async () => {
    for (const damage of ['delete', 'partial'] as const) {
      const r = rng(11);
      const dir = tempDir('timeindex');
      dirs.push(dir);
      const { appended } = await bigLog(dir, r);
      await closeAll();
      const segs = segments(join(dir, 't-0'));
      for (const seg of segs.slice(0, -1)) {
        if (damage === 'delete') rmSync(seg.timeindex);
        else truncateSync(seg.timeindex, Math.max(0, fileSize(seg.timeindex) - 5));
      }
      const log = (await track(openStorage(dir))).log('t', 0);
      const end = batchLastOffset(appended.at(-1)!) + 1;
      // Every record is far older than `now - retentionMs`: the whole log expires.
      const start = await log.applyRetention({ retentionBytes: -1, retentionMs: 1000, now: 4_000_000_000_000 });
      expect(start, `${damage}: logStartOffset after every record expired`).toBe(end);
      expect(log.logEndOffset).toBe(end);
      expect(await readAll(log)).toEqual([]);
      await closeAll();
      removeAll(dirs);
    }
  });
});
