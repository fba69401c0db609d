/**
 * Folder fsyncs with fsync 'always': a file's name in its folder is durable only once the folder
 * is fsynced, so a segment created by a roll — or a new partition folder and its first segment —
 * must have its folder (and, for a new folder, the storage folder) fsynced before any record
 * written into it is acknowledged; and a failed folder fsync is STORAGE_IO, never an
 * acknowledgement. Counted through the injectable FileSystem (power-cut-fs.ts tracks entries
 * created and not yet covered by a folder fsync).
 */
import * as nodeFs from 'node:fs';
import { rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage, batchLastOffset } from 'kafkalite';
import { nodeFileSystem } from '../../../src/storage/fs/file-system.js';
import { append, expectBatches, openStorage, readAll, rejection, segments, tempDir, timestampOf, useStorages } from './fs-helpers.js';
import { faultyFs } from './faulty-fs.js';
import { powerCutFs } from './power-cut-fs.js';

const { dirs, track } = useStorages();

/** Entries of the partition folder (or the folder itself) that a power cut now would lose. */
const unsyncedIn = (entries: string[], part: string): string[] => entries.filter((p) => p === part || p.startsWith(part + sep));

describe("folder fsyncs with fsync 'always'", () => {
  it('200 awaited single-message sends rolling 4096-byte segments: every segment is in a fsynced folder before its send resolves', async () => {
    const dir = tempDir('dirsync');
    dirs.push(dir);
    const cut = powerCutFs(nodeFileSystem);
    const broker = await Broker.open({ storage: new FileStorage({ dir, fs: cut.fs, fsync: 'always', segmentBytes: 4096 }) });
    try {
      await broker.createTopic('t', { partitions: 1, retentionMs: -1 });
      const part = join(dir, 't-0');
      const producer = broker.producer();
      const value = Buffer.alloc(1000, 0x61);
      for (let i = 0; i < 200; i++) {
        await producer.send({ topic: 't', messages: [{ value }] });
        expect(unsyncedIn(cut.unsyncedEntries(), part), `entries a cut would lose after send ${i} resolved`).toEqual([]);
      }
      const made = segments(part).length;
      expect(made, 'segments created').toBeGreaterThanOrEqual(40);
      expect(cut.dirSyncs(part), `fsyncs of t-0 for ${made} segments`).toBeGreaterThanOrEqual(made);
    } finally {
      await broker.close();
    }
  });

  it('no folder fsync when no segment was created', async () => {
    const dir = tempDir('dirsync-none');
    dirs.push(dir);
    const cut = powerCutFs(nodeFileSystem);
    const broker = await Broker.open({ storage: new FileStorage({ dir, fs: cut.fs, fsync: 'always' }) });
    try {
      await broker.createTopic('t', { partitions: 1, retentionMs: -1 });
      const part = join(dir, 't-0');
      const producer = broker.producer();
      await producer.send({ topic: 't', messages: [{ value: 'first' }] }); // the new folder's first segment
      const after = cut.dirSyncs(part);
      expect(after, 'the new folder was fsynced before the first send resolved').toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 200; i++) await producer.send({ topic: 't', messages: [{ value: `v${i}` }] });
      expect(segments(part).length).toBe(1);
      expect(cut.dirSyncs(part), 'folder fsyncs over 200 sends into one segment').toBe(after);
    } finally {
      await broker.close();
    }
  });

  it('a partition folder made again at open is fsynced into the storage folder before open returns', async () => {
    const dir = tempDir('dirsync-parent');
    dirs.push(dir);
    const first = await openStorage(dir, { fsync: 'always' });
    await first.close();
    const part = join(dir, 't-0');
    // topics.json still lists it; nothing was ever written to it (a folder lost with records in
    // it is STORAGE_CORRUPT: see missing-files.test.ts).
    rmSync(part, { recursive: true });
    const cut = powerCutFs(nodeFileSystem);
    const storage = await track(openStorage(dir, { fsync: 'always', fs: cut.fs }));
    expect(cut.unsyncedEntries(), 'entries a cut would lose after open').not.toContain(part);
    await append(storage.log('t', 0), { records: 1, valueSize: 10 });
    expect(unsyncedIn(cut.unsyncedEntries(), part), 'after the first append resolved').toEqual([]);
  });

  it('time retention that empties the log: the new empty segment is in the folder for good before the old ones go', async () => {
    const dir = tempDir('dirsync-retention');
    dirs.push(dir);
    const cut = powerCutFs(nodeFileSystem);
    const storage = await track(openStorage(dir, { fsync: 'always', fs: cut.fs }));
    const log = storage.log('t', 0);
    for (let i = 0; i < 5; i++) await append(log, { records: 2, valueSize: 30 });
    const end = log.logEndOffset;
    expect(await log.applyRetention({ retentionBytes: -1, retentionMs: 1000, now: timestampOf(end) + 1_000_000 })).toBe(end);
    const copy = tempDir('dirsync-retention-cut');
    dirs.push(copy);
    cut.cutInto(dir, copy); // the power goes out before anything else is written
    const after = await track(openStorage(copy));
    expect(after.log('t', 0).logEndOffset, 'the log still ends where it did (offsets are never reused)').toBe(end);
    expect(after.log('t', 0).logStartOffset).toBe(end);
  });

  for (const when of ['the first append into a new partition folder', 'an append that rolls a segment'] as const) {
    it(`a failed folder fsync on ${when} rejects it with STORAGE_IO; nothing of it is acknowledged; the next append syncs the folder`, async () => {
      const dir = tempDir('dirsync-fault');
      dirs.push(dir);
      const ffs = faultyFs(nodeFs);
      const storage = await track(openStorage(dir, { fsync: 'always', fs: ffs.fs }, { segmentBytes: 1024 }));
      const log = storage.log('t', 0);
      const acked: Buffer[] = [];
      const spec = { records: 1, valueSize: 300 }; // two fit in a 1024-byte segment, not three
      if (when === 'an append that rolls a segment') for (let i = 0; i < 2; i++) acked.push(await append(log, spec));
      const part = join(dir, 't-0');
      const before = segments(part).length;
      ffs.arm({ nth: 1, code: 'EIO', mode: 'once', ops: ['fsync'], path: /\/t-0$/ });
      const error = await rejection(() => append(log, spec));
      expect(ffs.hits.map((h) => h.path), 'the folder fsync failed').toEqual([part]);
      ffs.clear();
      expect(error.code, error.message).toBe('STORAGE_IO');
      expect(error.message).toContain(part);
      const ackedEnd = acked.length === 0 ? 0 : batchLastOffset(acked.at(-1)!) + 1;
      expect(log.logEndOffset).toBe(ackedEnd);
      expectBatches(await readAll(log), acked, 'after the rejection');
      expect(segments(part).length, 'a segment the failed round made is gone').toBe(before);

      ffs.arm({ nth: 1_000_000, code: 'EIO', mode: 'once', ops: ['fsync'], path: /\/t-0$/ }); // count folder fsyncs
      acked.push(await append(log, spec));
      expect(ffs.calls, 'the next append fsynced the folder').toBeGreaterThanOrEqual(1);
      expectBatches(await readAll(log), acked, 'after the next append');
    });
  }

  it("with fsync 'never', flush reports a failed folder fsync as STORAGE_IO", async () => {
    const dir = tempDir('dirsync-never');
    dirs.push(dir);
    const ffs = faultyFs(nodeFs);
    const storage = await track(openStorage(dir, { fsync: 'never', fs: ffs.fs }));
    await append(storage.log('t', 0), { records: 1, valueSize: 10 });
    ffs.arm({ nth: 1, code: 'EIO', mode: 'once', ops: ['fsync'], path: /\/t-0$/ });
    const error = await rejection(() => storage.log('t', 0).flush());
    ffs.clear();
    expect(error.code, error.message).toBe('STORAGE_IO');
    await storage.log('t', 0).flush(); // and it is tried again
  });
});
