/**
 * FileStorage's cleaner and its swap protocol. The folder is copied before every file operation
 * of a cleaning pass (each rename, removal, unlink and file creation): each copy is what a crash at
 * that moment leaves. A pass swaps in one group of segments at a time, each either old or new: so
 * opening a copy must give records that were all in the log before the pass, holding every record
 * the pass keeps — never a loss, never a mix — with no `.cleaned` or `.swap` file left.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, ManualClock } from 'kafkalite';
import type { FileSystem } from '../../../src/storage/fs/file-system.js';
import { tempDir } from './fs-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Row = [number, string, string | null];

async function readAll(broker: Broker, topic = 'c'): Promise<Row[]> {
  const records = await broker.topic(topic).partition(0).read(0, { maxRecords: 100_000 });
  return records.map((r) => [r.offset, r.key!.toString(), r.value === null ? null : r.value.toString()]);
}

/** A FileSystem that calls `before(op, path)` ahead of every operation that changes the folder. */
function watchedFs(before: (op: string, path: string) => void): FileSystem {
  const wrap =
    <K extends keyof FileSystem>(op: K) =>
    (...args: unknown[]): unknown => {
      if (op !== 'openSync' || (typeof args[1] === 'string' && args[1] !== 'r')) before(op, String(args[0]));
      return (nodeFs[op] as (...a: unknown[]) => unknown)(...args);
    };
  return { ...nodeFs, renameSync: wrap('renameSync'), rmSync: wrap('rmSync'), unlink: wrap('unlink'), unlinkSync: wrap('unlinkSync'), openSync: wrap('openSync') } as unknown as FileSystem;
}

describe('FileStorage cleaning', () => {
  it.each(['always', 'never'] as const)('a crash at any step of a pass leaves the log before it or after it (fsync %s)', async (fsync) => {
    const dir = tempDir('clean-steps');
    dirs.push(dir);
    let snapshotting = false;
    const snapshots: string[] = [];
    const fs = watchedFs(() => {
      if (!snapshotting) return;
      const copy = tempDir('clean-step');
      dirs.push(copy);
      // `.deleted` files go at the next open anyway, and are being unlinked in the background.
      cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith('.deleted') });
      snapshots.push(copy);
    });
    const clock = new ManualClock(1_700_000_000_000);
    const broker = await Broker.open({ storage: new FileStorage({ dir, fsync, fs }), clock, retentionCheckIntervalMs: 1e12 });
    await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact', segmentBytes: 400, deleteRetentionMs: 0 });
    const producer = broker.producer();
    for (let i = 0; i < 80; i++) {
      const key = `k${i % 7}`;
      await producer.send({ topic: 'c', messages: [{ key, value: i % 11 === 5 ? null : `v${i}` }] });
    }
    await broker.topic('c').compact(); // tombstones get their horizon (now + 0)
    await clock.advance(1);
    for (let i = 80; i < 120; i++) await producer.send({ topic: 'c', messages: [{ key: `k${i % 5}`, value: `v${i}` }] });
    const before = await readAll(broker);
    snapshotting = true;
    await broker.topic('c').compact();
    snapshotting = false;
    const after = await readAll(broker);
    expect(after.length).toBeLessThan(before.length);
    await broker.close();

    expect(snapshots.length).toBeGreaterThan(3);
    const seen = { before: 0, after: 0, swap: 0 };
    for (const copy of snapshots) {
      const files = readdirSync(join(copy, 'c-0'));
      if (files.some((f) => f.endsWith('.swap'))) seen.swap++;
      const b = await Broker.open({ storage: new FileStorage({ dir: copy }), clock, retentionCheckIntervalMs: 1e12 });
      try {
        const rows = await readAll(b);
        // Groups of segments are swapped in one at a time: between two, the log is cleaned up to
        // a point — every record is one produced there, and every record the pass keeps is there.
        const key = (r: Row): string => JSON.stringify(r);
        const produced = new Set(before.map(key));
        const have = new Set(rows.map(key));
        for (const r of rows) expect(produced.has(key(r)), `snapshot ${copy}: ${key(r)}`).toBe(true);
        for (const r of after) expect(have.has(key(r)), `snapshot ${copy} lost ${key(r)}`).toBe(true);
        if (rows.length === before.length) seen.before++;
        if (rows.length === after.length) seen.after++;
        expect(b.topic('c').partition(0).logEndOffset).toBe(120);
      } finally {
        await b.close();
      }
      expect(readdirSync(join(copy, 'c-0')).filter((f) => /\.(cleaned|swap)$/.test(f))).toEqual([]);
    }
    expect(seen.before).toBeGreaterThan(0);
    expect(seen.after).toBeGreaterThan(0);
    expect(seen.swap).toBeGreaterThan(0);
  });

  it('keeps offsets, fills removed runs with empty batches, groups small segments, and reads across the gaps', async () => {
    const dir = tempDir('clean-layout');
    dirs.push(dir);
    const broker = await Broker.open({ storage: new FileStorage({ dir, fsync: 'never' }), retentionCheckIntervalMs: 1e12 });
    await broker.createTopic('c', { partitions: 1, cleanupPolicy: 'compact', segmentBytes: 300 });
    const producer = broker.producer();
    for (let i = 0; i < 60; i++) await producer.send({ topic: 'c', messages: [{ key: `k${i % 3}`, value: `v${i}` }] });
    const segmentsBefore = readdirSync(join(dir, 'c-0')).filter((f) => f.endsWith('.log')).length;
    await broker.topic('c').compact();
    const rows = await readAll(broker);
    const segmentsAfter = readdirSync(join(dir, 'c-0')).filter((f) => f.endsWith('.log')).length;
    expect(segmentsAfter).toBeLessThan(segmentsBefore);
    // Every key's latest record stays; records of the active segment all stay; offsets are the ones produced.
    for (const [offset, key, value] of rows) expect([key, value]).toEqual([`k${offset % 3}`, `v${offset}`]);
    expect(rows.slice(-1)[0]![0]).toBe(59);
    expect(rows.length).toBeLessThan(30);
    // A read from a removed offset starts at the next one kept; so does a consumer's seek.
    const offsets = new Set(rows.map((r) => r[0]));
    let missing = 0;
    while (offsets.has(missing)) missing++;
    const gap = rows.findIndex((r) => r[0] > missing);
    expect((await broker.topic('c').partition(0).read(missing, { maxRecords: 1 }))[0]!.offset).toBe(rows[gap]![0]);
    const consumer = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest' });
    await consumer.assign([{ topic: 'c', partition: 0 }]);
    consumer.seek({ topic: 'c', partition: 0, offset: missing });
    const polled = await consumer.poll();
    expect(polled[0]!.offset).toBe(rows[gap]![0]);
    await consumer.close();
    await broker.close();
    // Reopened: the same records (the loader checks that batches follow offset by offset).
    const again = await Broker.open({ storage: new FileStorage({ dir }) });
    expect(await readAll(again)).toEqual(rows);
    await again.close();
  });
});
