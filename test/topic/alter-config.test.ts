/** `topic.alterConfig` (Kafka's IncrementalAlterConfigs) and `group.delete()` (DeleteGroups). */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { expectError } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('topic.alterConfig', () => {
  it('sets, resets to default with null, persists, and takes effect at once for maxMessageBytes', async () => {
    const dir = tempDir('alter');
    dirs.push(dir);
    const broker = await Broker.open({ storage: new FileStorage({ dir }) });
    const t = await broker.createTopic('t', { retentionMs: 1000, maxMessageBytes: 500 });
    const p = broker.producer();
    await expectError(() => p.send({ topic: 't', messages: [{ value: 'x'.repeat(600) }] }), 'MESSAGE_TOO_LARGE');
    await t.alterConfig({ maxMessageBytes: 5000, retentionMs: null, cleanupPolicy: 'compact' });
    expect(t.config).toMatchObject({ maxMessageBytes: 5000, retentionMs: 604_800_000, cleanupPolicy: 'compact', partitions: 1 });
    await p.send({ topic: 't', messages: [{ key: 'k', value: 'x'.repeat(600) }] });
    await broker.close();
    const again = await Broker.open({ storage: new FileStorage({ dir }) });
    expect(again.topic('t').config).toMatchObject({ maxMessageBytes: 5000, retentionMs: 604_800_000, cleanupPolicy: 'compact' });
    await again.close();
  });

  it('refuses bad changes and changes nothing', async () => {
    const broker = await Broker.open();
    const t = await broker.createTopic('t', { partitions: 2 });
    const before = t.config;
    await expectError(() => t.alterConfig({ retentionMs: -5 }), 'INVALID_CONFIG', /retentionMs .* -5/);
    await expectError(() => t.alterConfig({ partitions: 4 } as never), 'INVALID_CONFIG', /addPartitions/);
    await expectError(() => t.alterConfig({ nope: 1 } as never), 'INVALID_CONFIG', /"nope"/);
    await expectError(() => t.alterConfig(null as never), 'INVALID_CONFIG');
    expect(t.config).toEqual(before);
    await broker.deleteTopic('t');
    await expectError(() => t.alterConfig({ retentionMs: 1 }), 'UNKNOWN_TOPIC');
    await broker.close();
    await expectError(() => t.alterConfig({ retentionMs: 1 }), 'CLOSED');
  });
});

describe('group.delete', () => {
  it('forgets an empty group and its offsets; a group with members is GROUP_NOT_EMPTY', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t');
    const c = broker.consumer({ groupId: 'g' });
    await c.subscribe('t');
    await c.commit([{ topic: 't', partition: 0, offset: 0 }]);
    await expectError(() => broker.group('g').delete(), 'GROUP_NOT_EMPTY', /"g" is Stable/);
    await c.close();
    expect(broker.listGroups()).toEqual(['g']);
    await broker.group('g').delete();
    expect(broker.listGroups()).toEqual([]);
    expect(await broker.group('g').committed({ topic: 't', partition: 0 })).toBeUndefined();
    await broker.close();
  });
});
