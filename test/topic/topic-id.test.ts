/** `topic.id`: Kafka's topic UUID, stable for a topic's life, new for a topic created again. */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, MemoryStorage } from 'kafkalite';
import { tempDir } from '../storage/fs/fs-helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/;

describe('topic.id', () => {
  it.each([
    ['MemoryStorage', () => new MemoryStorage()],
    ['FileStorage', () => {
      const dir = tempDir('topic-id');
      dirs.push(dir);
      return new FileStorage({ dir });
    }],
  ])('is given at creation, distinct per topic, kept across growth, config changes and a restart (%s)', async (_, make) => {
    const storage = make();
    const broker = await Broker.open({ storage });
    const a = await broker.createTopic('a');
    const b = await broker.createTopic('b');
    expect(a.id).toMatch(ID);
    expect(b.id).toMatch(ID);
    expect(a.id).not.toBe(b.id);
    await a.addPartitions(3);
    await a.alterConfig({ retentionMs: 1000 });
    expect(broker.topic('a').id).toBe(a.id);
    await broker.close();
    const again = await Broker.open({ storage });
    expect(again.topic('a').id).toBe(a.id);
    expect(again.topic('b').id).toBe(b.id);
    await again.close();
  });

  it('is new for a topic deleted and created again under the same name', async () => {
    const broker = await Broker.open();
    const first = (await broker.createTopic('t')).id;
    await broker.deleteTopic('t');
    const second = (await broker.createTopic('t')).id;
    expect(second).toMatch(ID);
    expect(second).not.toBe(first);
    await broker.close();
  });

  it('is given to an auto-created topic too', async () => {
    const broker = await Broker.open();
    await broker.producer().send({ topic: 'auto', messages: [{ value: 'x' }] });
    expect(broker.topic('auto').id).toMatch(ID);
    await broker.close();
  });
});
