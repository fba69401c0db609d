/**
 * `partition.deleteRecordsBefore` (Kafka's DeleteRecords) and `partition.offsetForTimestamp`
 * (ListOffsets by time), on both storages; on FileStorage the moved start survives a clean
 * restart and a crash, and a lookup by time goes through the time index across segments.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, ManualClock, MemoryStorage, type Storage } from 'kafkalite';
import { expectError, text } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function memory(): { open: () => Storage; crash?: undefined; dir?: undefined } {
  const storage = new MemoryStorage();
  return { open: () => storage };
}

function file(): { open: (at?: string) => Storage; crash: () => string; dir: string } {
  const dir = tempDir('partition-admin');
  dirs.push(dir);
  return {
    dir,
    open: (at = dir) => new FileStorage({ dir: at, segmentBytes: 600 }),
    crash: () => {
      const copy = tempDir('partition-admin-crash');
      dirs.push(copy);
      // Segments being deleted (renamed *.deleted, removed in the background) may vanish mid-copy;
      // a crash leaves them or not, and the copy takes the case where they are gone.
      cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith('.deleted') });
      return copy;
    },
  };
}

async function fill(broker: Broker, n: number, timestampOf: (i: number) => number = (i) => 1_000 + i): Promise<void> {
  await broker.createTopic('t', { retentionMs: -1 });
  const p = broker.producer();
  for (let i = 0; i < n; i += 5) {
    await p.send({ topic: 't', messages: Array.from({ length: 5 }, (_, k) => ({ value: `v${i + k}`, timestamp: timestampOf(i + k) })) });
  }
}

describe.each([
  ['memory', memory],
  ['file', file],
] as const)('partition admin (%s storage)', (kind, make) => {
  it('deleteRecordsBefore moves the start, also inside a batch; readers and consumers start there', async () => {
    const s = make();
    const broker = await Broker.open({ storage: s.open(), logger: 'silent' });
    await fill(broker, 100);
    const p = broker.topic('t').partition(0);
    await p.deleteRecordsBefore(37);
    expect(p.logStartOffset).toBe(37);
    expect((await p.read(0, { maxRecords: 3 })).map((r) => r.offset)).toEqual([37, 38, 39]);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign([{ topic: 't', partition: 0 }]);
    expect((await c.poll())[0]!.offset).toBe(37);
    await p.deleteRecordsBefore(10); // below the start: nothing
    expect(p.logStartOffset).toBe(37);
    await expectError(() => p.deleteRecordsBefore(101), 'OFFSET_OUT_OF_RANGE', /101/);
    await expectError(() => p.deleteRecordsBefore(-1), 'INVALID_ARGUMENT');
    await p.deleteRecordsBefore(100); // up to the end: nothing left to read
    expect(p.logStartOffset).toBe(100);
    expect(await p.read(0)).toEqual([]);
    await broker.producer().send({ topic: 't', messages: [{ value: 'after' }] });
    expect((await p.read(0)).map((r) => [r.offset, text(r.value)])).toEqual([[100, 'after']]);
    await broker.close();

    const again = await Broker.open({ storage: s.open(), logger: 'silent' });
    expect(again.topic('t').partition(0).logStartOffset).toBe(100);
    await again.close();
  });

  it('a consumer positioned below the new start resets per autoOffsetReset', async () => {
    const s = make();
    const broker = await Broker.open({ storage: s.open(), logger: 'silent' });
    await fill(broker, 20);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign([{ topic: 't', partition: 0 }]);
    expect((await c.poll()).length).toBe(20);
    c.seek({ topic: 't', partition: 0, offset: 3 });
    await broker.topic('t').partition(0).deleteRecordsBefore(12);
    expect((await c.poll()).map((r) => r.offset)[0]).toBe(12);
    await broker.close();
  });

  it('offsetForTimestamp finds the first record at or after a time, also with timestamps out of order', async () => {
    const s = make();
    const broker = await Broker.open({ storage: s.open(), logger: 'silent' });
    // 1000, 1001, …, with a late record (ts 5000) at 40 and an early one (ts 10) at 41
    await fill(broker, 100, (i) => (i === 40 ? 5_000 : i === 41 ? 10 : 1_000 + i));
    const p = broker.topic('t').partition(0);
    expect(await p.offsetForTimestamp(0)).toBe(0);
    expect(await p.offsetForTimestamp(1_000)).toBe(0);
    expect(await p.offsetForTimestamp(1_030)).toBe(30);
    expect(await p.offsetForTimestamp(1_041)).toBe(40); // the record at 40 (ts 5000) is the first at or after 1041
    expect(await p.offsetForTimestamp(1_099)).toBe(40);
    expect(await p.offsetForTimestamp(5_000)).toBe(40);
    expect(await p.offsetForTimestamp(5_001)).toBeUndefined();
    await p.deleteRecordsBefore(50);
    expect(await p.offsetForTimestamp(1_000)).toBe(50);
    await broker.close();
    const again = await Broker.open({ storage: s.open(), logger: 'silent' });
    expect(await again.topic('t').partition(0).offsetForTimestamp(1_060)).toBe(60);
    await again.close();
  });

  if (kind === 'file') {
    it('FileStorage: the start survives a crash, whole segments below it are deleted, and a recreated topic starts at 0', async () => {
      const s = file();
      const clock = new ManualClock(1_000_000);
      const broker = await Broker.open({ storage: s.open(), clock, logger: 'silent' });
      await fill(broker, 100);
      const folder = join(s.dir, 't-0');
      const before = readdirSync(folder).filter((f) => f.endsWith('.log')).length;
      expect(before).toBeGreaterThan(3);
      await broker.topic('t').partition(0).deleteRecordsBefore(61);
      const after = readdirSync(folder).filter((f) => f.endsWith('.log') );
      expect(after.length).toBeLessThan(before);
      expect(Number(after.sort()[0]!.slice(0, 20))).toBeLessThanOrEqual(61);
      const crashed = await Broker.open({ storage: s.open(s.crash()), clock, logger: 'silent' });
      expect(crashed.topic('t').partition(0).logStartOffset).toBe(61);
      expect((await crashed.topic('t').partition(0).read(0, { maxRecords: 1 }))[0]!.offset).toBe(61);
      await crashed.close();
      await broker.deleteTopic('t');
      await broker.createTopic('t');
      await broker.producer().send({ topic: 't', messages: [{ value: 'fresh' }] });
      await broker.close();
      const reopened = await Broker.open({ storage: s.open(), clock, logger: 'silent' });
      expect(reopened.topic('t').partition(0).logStartOffset).toBe(0);
      expect((await reopened.topic('t').partition(0).read(0)).map((r) => text(r.value))).toEqual(['fresh']);
      await reopened.close();
    });
  }
});
