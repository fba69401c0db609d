/** Closed means closed: after `broker.close()`, every call on that broker's objects rejects with CLOSED. */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { expectError } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('after broker.close()', () => {
  it("every call on the broker's topics, partitions, groups and clients rejects with CLOSED", async () => {
    const broker = await Broker.open();
    const topic = await broker.createTopic('t', { partitions: 2 });
    const producer = broker.producer();
    await producer.send({ topic: 't', messages: [{ value: 'v' }] });
    const consumer = broker.consumer({ groupId: 'g' });
    await consumer.subscribe('t');
    const partition = topic.partition(0);
    const group = broker.group('g');
    await broker.close();

    await expectError(() => partition.read(0), 'CLOSED');
    await expectError(() => topic.partition(1), 'CLOSED');
    await expectError(() => topic.addPartitions(3), 'CLOSED');
    await expectError(() => group.lag(), 'CLOSED');
    await expectError(() => group.committed({ topic: 't', partition: 0 }), 'CLOSED');
    await expectError(() => group.members(), 'CLOSED');
    await expectError(() => group.resetOffsets({ topic: 't', to: 'earliest' }), 'CLOSED');
    await expectError(() => producer.send({ topic: 't', messages: [{ value: 'v' }] }), 'CLOSED');
    await expectError(() => producer.flush(), 'CLOSED');
    await expectError(() => consumer.poll(), 'CLOSED');
    await expectError(() => consumer.commit(), 'CLOSED');
    await expectError(() => broker.topic('t'), 'CLOSED');
    await expectError(() => broker.createTopic('u'), 'CLOSED');
    await expectError(() => broker.group('g'), 'CLOSED');
    await broker.close(); // twice is fine
  });

  it('an old Partition on a folder another broker reopened says CLOSED, not STORAGE_CORRUPT', async () => {
    const dir = tempDir('closed');
    dirs.push(dir);
    const first = await Broker.open({ storage: new FileStorage({ dir }) });
    await first.createTopic('t');
    await first.producer().send({ topic: 't', messages: [{ value: 'a' }] });
    const old = first.topic('t').partition(0);
    await first.close();
    const second = await Broker.open({ storage: new FileStorage({ dir }) });
    await second.producer().send({ topic: 't', messages: Array.from({ length: 50 }, () => ({ value: 'b'.repeat(100) })) });
    await expectError(() => old.read(0), 'CLOSED');
    expect((await second.topic('t').partition(0).read(0, { maxRecords: 1000 })).length).toBe(51);
    await second.close();
  });

  it('a Partition of a deleted topic says UNKNOWN_TOPIC', async () => {
    const broker = await Broker.open();
    const topic = await broker.createTopic('t');
    await broker.deleteTopic('t');
    await expectError(() => topic.partition(0).read(0), 'UNKNOWN_TOPIC', /"t"/);
    await broker.close();
  });
});

describe('the internal offsets topic', () => {
  it('can be read but not deleted, grown, reconfigured or produced to', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t');
    const c = broker.consumer({ groupId: 'g' });
    await c.subscribe('t');
    await c.commit([{ topic: 't', partition: 0, offset: 0 }]);
    await expectError(() => broker.deleteTopic('__consumer_offsets'), 'INVALID_TOPIC', /internal topic/);
    await expectError(() => broker.topic('__consumer_offsets').addPartitions(3), 'INVALID_TOPIC', /addPartitions is refused/);
    await expectError(() => broker.topic('__consumer_offsets').alterConfig({ retentionMs: 1 }), 'INVALID_TOPIC', /alterConfig is refused/);
    await expectError(() => broker.producer().send({ topic: '__consumer_offsets', messages: [{ value: 'junk' }] }), 'INVALID_TOPIC', /producing to it is refused/);
    await expectError(() => broker.topic('__consumer_offsets').partition(0).deleteRecordsBefore(1), 'INVALID_TOPIC', /deleteRecordsBefore is refused/);
    expect((await broker.topic('__consumer_offsets').partition(0).read(0)).length).toBe(1);
    expect(await broker.group('g').committed({ topic: 't', partition: 0 })).toBe(0);
    await broker.close();
  });
});
