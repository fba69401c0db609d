/**
 * Deleting a topic deletes every group's committed offsets for it (as Kafka's coordinator does):
 * a topic created again under the same name starts from autoOffsetReset, so its first records
 * are delivered — on every storage, and still after a restart.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, MemoryStorage, type Storage } from 'kafkalite';
import { text } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const storages: [string, () => () => Storage][] = [
  ['memory', () => {
    const storage = new MemoryStorage();
    return () => storage;
  }],
  ['file', () => {
    const dir = tempDir('topic-deletion');
    dirs.push(dir);
    return () => new FileStorage({ dir, fsync: 'never' });
  }],
];

describe.each(storages)('deleting a topic (%s storage)', (_kind, make) => {
  it("forgets every group's committed offsets for it, also after a restart", async () => {
    const storage = make();
    let broker = await Broker.open({ storage: storage() });
    await broker.createTopic('t', { partitions: 2 });
    await broker.createTopic('kept');
    const p = broker.producer();
    await p.send({ topic: 't', messages: Array.from({ length: 10 }, (_, i) => ({ value: `old${i}`, partition: i % 2 })) });
    await p.send({ topic: 'kept', messages: [{ value: 'k' }] });
    for (const groupId of ['g1', 'g2']) {
      const c = broker.consumer({ groupId, autoOffsetReset: 'earliest' });
      await c.subscribe(['t', 'kept']);
      while ((await c.poll()).length > 0);
      await c.commit();
      await c.close();
    }
    expect(await broker.group('g1').committed({ topic: 't', partition: 0 })).toBe(5);

    await broker.deleteTopic('t');
    expect(await broker.group('g1').committed({ topic: 't', partition: 0 })).toBeUndefined();
    expect(await broker.group('g2').committed({ topic: 't', partition: 1 })).toBeUndefined();
    expect(await broker.group('g1').committed({ topic: 'kept', partition: 0 })).toBe(1);

    await broker.createTopic('t', { partitions: 2 });
    await p.send({ topic: 't', messages: [{ value: 'new0', partition: 0 }, { value: 'new1', partition: 0 }] });
    await broker.close();

    broker = await Broker.open({ storage: storage() });
    expect(await broker.group('g2').committed({ topic: 't', partition: 0 })).toBeUndefined();
    expect(await broker.group('g2').committed({ topic: 'kept', partition: 0 })).toBe(1);
    const again = broker.consumer({ groupId: 'g1', autoOffsetReset: 'earliest' });
    await again.subscribe(['t']);
    expect((await again.poll()).map((r) => text(r.value))).toEqual(['new0', 'new1']);
    await broker.close();
  });
});
