import { describe, expect, it } from 'vitest';
import { FileStorage } from 'kafkalite';
import { SystemClock } from '../../src/clock.js';
import { TopicRegistry } from '../../src/topic/topic-registry.js';
import { PRODUCER_ID_BLOCK_SIZE, ProducerIdManager, TRANSACTION_STATE_TOPIC } from '../../src/txn/producer-ids.js';
import { expectError } from '../helpers.js';
import { tempDir } from '../storage/fs/fs-helpers.js';

async function open(dir: string) {
  const clock = new SystemClock();
  const storage = new FileStorage({ dir });
  const topics = new TopicRegistry(storage, clock);
  topics.load(await storage.open({ clock }));
  return { topics, ids: new ProducerIdManager(topics, () => clock.now()), close: async () => (await topics.close(), await storage.close()) };
}

describe('ProducerIdManager', () => {
  it('never hands out an id twice, also across restarts; concurrent calls get distinct ids', async () => {
    const dir = tempDir('producer-ids');
    let b = await open(dir);
    expect(b.topics.get(TRANSACTION_STATE_TOPIC)).toBeUndefined();
    const first = await Promise.all(Array.from({ length: 5 }, () => b.ids.next()));
    expect(first).toEqual([0, 1, 2, 3, 4]);
    // Created on first use, and kept by the broker.
    await expectError(() => b.topics.delete(TRANSACTION_STATE_TOPIC), 'INVALID_TOPIC', /internal/);
    await b.close();
    b = await open(dir);
    const again = await Promise.all(Array.from({ length: PRODUCER_ID_BLOCK_SIZE + 2 }, () => b.ids.next()));
    expect(again[0]).toBe(PRODUCER_ID_BLOCK_SIZE);
    expect(new Set(again).size).toBe(again.length);
    expect(again[again.length - 1]).toBe(2 * PRODUCER_ID_BLOCK_SIZE + 1);
    await b.close();
    b = await open(dir);
    expect(await b.ids.next()).toBe(3 * PRODUCER_ID_BLOCK_SIZE);
    await b.close();
  });
});
