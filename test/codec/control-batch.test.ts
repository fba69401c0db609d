import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { buildControlBatch, controlBatchType } from '../../src/codec/control-batch.js';
import { batchSize, checkBatch } from '../../src/codec/record-batch.js';
import { tempDir } from '../storage/fs/fs-helpers.js';
import { kafkajsDecodeBatch } from './kafkajs-oracle.js';

describe('control batches', () => {
  it('are what KafkaJS decodes as control batches of a transaction: commit and abort markers', async () => {
    for (const commit of [true, false]) {
      const batch = buildControlBatch(42, 3, commit, 0, 1_700_000_000_000);
      expect(checkBatch(batch)).toBeUndefined();
      expect(controlBatchType(batch)).toBe(commit ? 'commit' : 'abort');
      const kb = await kafkajsDecodeBatch(batch);
      expect(kb).toMatchObject({ isControlBatch: true, inTransaction: true, producerId: '42', producerEpoch: 3, firstSequence: -1 });
      // One control record: key version 0 and type (1 commit, 0 abort), value version 0 and coordinator epoch 0.
      expect(kb.records).toHaveLength(1);
      expect(kb.records[0]!.isControlRecord).toBe(true);
      expect([...kb.records[0]!.key!]).toEqual([0, 0, 0, commit ? 1 : 0]);
      expect([...kb.records[0]!.value!]).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });

  it('a FileStorage segment with transactional batches and markers decodes whole in KafkaJS, batch by batch', async () => {
    const dir = tempDir('txn-segment');
    const broker = await Broker.open({ storage: new FileStorage({ dir }) });
    await broker.createTopic('out', { partitions: 1 });
    const producer = broker.producer({ transactionalId: 'seg' });
    const a = producer.transaction();
    await a.send({ topic: 'out', messages: [{ key: 'k', value: 'aborted' }] });
    await a.abort();
    const b = producer.transaction();
    await b.send({ topic: 'out', messages: [{ key: 'k', value: 'kept' }, { value: 'kept too' }] });
    await b.commit();
    await broker.close();
    const log = readFileSync(join(dir, 'out-0', '00000000000000000000.log'));
    const decoded: Awaited<ReturnType<typeof kafkajsDecodeBatch>>[] = [];
    for (let at = 0; at < log.length; at += batchSize(log, at)) decoded.push(await kafkajsDecodeBatch(log.subarray(at, at + batchSize(log, at))));
    const data = (d: (typeof decoded)[number]) => d.records.filter((r) => !r.isControlRecord).map((r) => r.value?.toString());
    expect(decoded.map((d) => [d.firstOffset, d.isControlBatch, d.inTransaction, data(d)])).toEqual([
      ['0', false, true, ['aborted']],
      ['1', true, true, []],
      ['2', false, true, ['kept', 'kept too']],
      ['4', true, true, []],
    ]);
  });
});
