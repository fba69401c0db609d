/**
 * The lone durable append (fsync 'always', one producer awaiting each send): its rounds are
 * written and fsynced inline, in the calling thread — and stay as durable as the group-commit
 * rounds (a power cut after each acknowledgement keeps it), fail as cleanly (a failed inline
 * write refuses that send and the next one goes on from the last good offset), and give the
 * event loop a turn every few rounds.
 */
import * as nodeFs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage, KafkaliteError } from 'kafkalite';
import type { FileSystem } from '../../../src/storage/fs/file-system.js';
import { faultyFs } from './faulty-fs.js';
import { tempDir, useStorages } from './fs-helpers.js';
import { powerCutFs } from './power-cut-fs.js';

const { dirs } = useStorages();

/** Counts the calls of each operation on `.log` files. */
function countingFs(base: FileSystem): { fs: FileSystem; counts: Record<string, number> } {
  const counts: Record<string, number> = { writev: 0, writeSync: 0, fdatasync: 0, fsyncSync: 0 };
  const logFds = new Set<number>();
  const fs: FileSystem = {
    ...base,
    openSync: ((path: nodeFs.PathLike, ...rest: unknown[]) => {
      const fd = (base.openSync as (...a: unknown[]) => number)(path, ...rest);
      if (String(path).endsWith('.log')) logFds.add(fd);
      return fd;
    }) as FileSystem['openSync'],
    writev: ((fd: number, ...rest: unknown[]) => {
      if (logFds.has(fd)) counts['writev']!++;
      return (base.writev as (...a: unknown[]) => unknown)(fd, ...rest);
    }) as FileSystem['writev'],
    writeSync: ((fd: number, ...rest: unknown[]) => {
      if (logFds.has(fd)) counts['writeSync']!++;
      return (base.writeSync as (...a: unknown[]) => number)(fd, ...rest);
    }) as FileSystem['writeSync'],
    fdatasync: ((fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      if (logFds.has(fd)) counts['fdatasync']!++;
      base.fdatasync(fd, cb);
    }) as FileSystem['fdatasync'],
    fsyncSync: ((fd: number) => {
      if (logFds.has(fd)) counts['fsyncSync']!++;
      base.fsyncSync(fd);
    }) as FileSystem['fsyncSync'],
  };
  return { fs, counts };
}

describe("FileStorage fsync 'always': a lone writer's rounds go inline", () => {
  it('one producer awaiting each send: written and fsynced in the calling thread, every record kept', async () => {
    const dir = tempDir('inline');
    dirs.push(dir);
    const { fs, counts } = countingFs(nodeFs);
    const broker = await Broker.open({ storage: new FileStorage({ dir, fs }) });
    await broker.createTopic('t', { partitions: 1, retentionMs: -1 });
    const producer = broker.producer();
    for (let i = 0; i < 40; i++) {
      const [meta] = await producer.send({ topic: 't', messages: [{ value: `v${i}` }] });
      expect(meta!.baseOffset).toBe(i);
    }
    // The first round (nothing before it) goes the thread-pool way; so does one round in every few, to give the loop a turn.
    expect(counts['fsyncSync']).toBeGreaterThanOrEqual(20);
    expect(counts['writeSync']).toBeGreaterThanOrEqual(counts['fsyncSync']!);
    expect(counts['fdatasync']).toBeGreaterThan(0);
    await broker.close();
    const again = await Broker.open({ storage: new FileStorage({ dir }) });
    const records = await again.topic('t').partition(0).read(0, { maxRecords: 100 });
    expect(records.map((r) => r.value!.toString())).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`));
    await again.close();
  });

  it('sends that overlap still share fsyncs (group commit): no inline round for rounds of several batches', async () => {
    const dir = tempDir('inline-group');
    dirs.push(dir);
    const { fs, counts } = countingFs(nodeFs);
    const broker = await Broker.open({ storage: new FileStorage({ dir, fs }) });
    await broker.createTopic('t', { partitions: 1, retentionMs: -1 });
    const producers = Array.from({ length: 8 }, () => broker.producer());
    await Promise.all(producers.map((p, k) => (async () => {
      for (let i = 0; i < 10; i++) await p.send({ topic: 't', messages: [{ value: `p${k}-${i}` }] });
    })()));
    expect(counts['fsyncSync']! + counts['fdatasync']!).toBeLessThan(80);
    await broker.close();
  });

  it('each acknowledgement survives a power cut right after it', async () => {
    const dir = tempDir('inline-power');
    dirs.push(dir);
    const cut = powerCutFs(nodeFs);
    const broker = await Broker.open({ storage: new FileStorage({ dir, fs: cut.fs, segmentBytes: 1024 }) });
    await broker.createTopic('t', { partitions: 1, retentionMs: -1 });
    const producer = broker.producer();
    for (let i = 0; i < 30; i++) {
      await producer.send({ topic: 't', messages: [{ value: `v${i}` }] });
      if (i % 7 !== 6) continue;
      const copy = tempDir('inline-cut');
      dirs.push(copy);
      cut.cutInto(dir, copy);
      const after = await Broker.open({ storage: new FileStorage({ dir: copy }) });
      const records = await after.topic('t').partition(0).read(0, { maxRecords: 100 });
      expect(records.map((r) => r.value!.toString())).toEqual(Array.from({ length: i + 1 }, (_, k) => `v${k}`));
      await after.close();
    }
    await broker.close();
  });

  it('a failed inline write or fsync refuses that send only; the next goes on from the last good offset', async () => {
    for (const op of ['writeSync', 'fsyncSync'] as const) {
      const dir = tempDir('inline-fault');
      dirs.push(dir);
      const ffs = faultyFs(nodeFs);
      const broker = await Broker.open({ storage: new FileStorage({ dir, fs: ffs.fs }), logger: 'silent' });
      await broker.createTopic('t', { partitions: 1, retentionMs: -1 });
      const producer = broker.producer();
      for (let i = 0; i < 5; i++) await producer.send({ topic: 't', messages: [{ value: `ok${i}` }] });
      await new Promise((resolve) => setImmediate(resolve)); // the event loop's turn: the next round may go inline
      ffs.arm({ nth: 1, code: 'EIO', mode: 'once', ops: [op], path: /\.log$/ });
      const failed = await producer.send({ topic: 't', messages: [{ value: 'lost' }] }).catch((e: unknown) => e);
      expect(ffs.hits, op).toHaveLength(1);
      expect(failed).toBeInstanceOf(KafkaliteError);
      expect((failed as KafkaliteError).code).toBe('STORAGE_IO');
      ffs.clear();
      const [meta] = await producer.send({ topic: 't', messages: [{ value: 'next' }] });
      expect(meta!.baseOffset).toBe(5);
      await broker.close();
      const again = await Broker.open({ storage: new FileStorage({ dir }) });
      const records = await again.topic('t').partition(0).read(0, { maxRecords: 100 });
      expect(records.map((r) => r.value!.toString())).toEqual(['ok0', 'ok1', 'ok2', 'ok3', 'ok4', 'next']);
      await again.close();
    }
  });
});
