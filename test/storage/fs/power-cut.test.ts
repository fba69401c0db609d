/**
 * Power loss with fsync 'always': at random moments while producers run, the folder is copied
 * as a power cut would leave it (only fsynced bytes survive, and only the files and folders whose
 * parent folder was fsynced after they were made: see power-cut-fs.ts), and the copy must open with every
 * acknowledged record at its offset. With fsync 'never' acknowledged records may be lost to a
 * power cut (that is the mode's promise), but the copy must still open to a consistent log.
 */
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { nodeFileSystem } from '../../../src/storage/fs/file-system.js';
import { rng, tempDir, useStorages } from './fs-helpers.js';
import { powerCutFs } from './power-cut-fs.js';

const { dirs } = useStorages();

async function readAll(broker: Broker): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  for (const p of broker.topic('t').partitions) {
    let next = p.logStartOffset;
    for (;;) {
      const records = await p.read(next, { maxRecords: 1000 });
      if (records.length === 0) break;
      for (const r of records) {
        expect(r.offset).toBe(next);
        seen.set(r.value!.toString(), `${p.id}/${r.offset}`);
        next = r.offset + 1;
      }
    }
  }
  return seen;
}

describe.each(['always', 'never'] as const)("power cut with fsync '%s'", (fsync) => {
  it('opens the cut folder; with always, every acknowledged record is there', async () => {
    const r = rng(fsync === 'always' ? 11 : 12);
    let checked = 0;
    for (let trial = 0; trial < 20; trial++) {
      const dir = tempDir('power');
      dirs.push(dir);
      const cut = powerCutFs(nodeFileSystem);
      const broker = await Broker.open({ storage: new FileStorage({ dir, fsync, fs: cut.fs, segmentBytes: 2048 }) });
      await broker.createTopic('t', { partitions: 2, retentionMs: -1 });
      const acked = new Map<string, string>();
      const producers = Array.from({ length: 3 }, () => broker.producer());
      let n = 0;
      const sends: Promise<void>[] = [];
      const stopAt = 5 + Math.floor(r() * 60);
      for (let i = 0; i < stopAt; i++) {
        const value = `r${n++}`;
        const producer = producers[i % producers.length]!;
        sends.push(
          producer.send({ topic: 't', messages: [{ key: value, value }] }).then(([meta]) => {
            acked.set(value, `${meta!.partition}/${meta!.baseOffset}`);
          }),
        );
        if (r() < 0.25) await sends[sends.length - 1]; // let some rounds complete (and be acknowledged)
      }
      // The power goes out now, with sends still in flight.
      const copy = tempDir('power-cut');
      dirs.push(copy);
      const ackedAtCut = new Map(acked);
      cut.cutInto(dir, copy);
      await Promise.allSettled(sends);
      await broker.close();

      const after = await Broker.open({ storage: new FileStorage({ dir: copy }) });
      const seen = await readAll(after);
      if (fsync === 'always') {
        checked += ackedAtCut.size;
        for (const [value, where] of ackedAtCut) expect(seen.get(value), `trial ${trial}: acknowledged ${value} at ${where}`).toBe(where);
      }
      const [meta] = await after.producer().send({ topic: 't', messages: [{ value: 'after', partition: 0 }] });
      expect((await after.topic('t').partition(0).read(meta!.baseOffset))[0]!.value!.toString()).toBe('after');
      await after.close();
    }
    if (fsync === 'always') expect(checked, 'acknowledged records checked after cuts').toBeGreaterThan(50);
  }, 60_000);
});
