/** A compacted topic refuses keyless records inside compressed batches too (a hostile review found them taken). */
import { describe, expect, it } from 'vitest';
import { Broker, KafkaliteError } from '../../src/index.js';

describe('compacted topics and compressed batches', () => {
  it('a keyless record in a gzip batch is refused (INVALID_ARGUMENT), nothing appended; keyed ones go in', async () => {
    const broker = await Broker.open();
    await broker.createTopic('c', { cleanupPolicy: 'compact' });
    const producer = broker.producer({ compression: 'gzip' });
    const error = await producer.send({ topic: 'c', messages: [{ key: 'k', value: 'a' }, { value: 'no key' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaliteError);
    expect((error as KafkaliteError).code).toBe('INVALID_ARGUMENT');
    expect(broker.topic('c').partition(0).logEndOffset).toBe(0);
    await producer.send({ topic: 'c', messages: [{ key: 'k', value: 'b' }] });
    expect((await broker.topic('c').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(['b']);
    await broker.close();
  });
});
