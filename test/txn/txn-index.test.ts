/**
 * FileStorage's `.txnindex` answers `read_committed` fetches exactly as the scan of the log does
 * (a producer state replayed from the batches, which MemoryStorage uses): on random transactional
 * workloads with sends fired without awaiting, several producers interleaved, segments rolling —
 * as written, after a clean reopen, and after the index files were lost or torn and rebuilt.
 */
import fc from 'fast-check';
import { readdirSync, rmSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage, type Transaction } from 'kafkalite';
import { tempDir } from '../storage/fs/fs-helpers.js';
import { batchLastOffset } from '../../src/codec/record-batch.js';
import { ProducerStateTable } from '../../src/topic/producer-state.js';
import type { PartitionState } from '../../src/topic/partition.js';
import type { PartitionLog } from '../../src/storage/storage.js';

const PARTITIONS = 2;

type Op = { producer: number; kind: 'send'; partition: number; records: number } | { producer: number; kind: 'commit' | 'abort' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ producer: fc.nat(2), kind: fc.constant('send' as const), partition: fc.nat(PARTITIONS - 1), records: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ producer: fc.nat(2), kind: fc.constantFrom('commit' as const, 'abort' as const) }) },
);

/** Runs the ops: sends are not awaited; a producer's next transaction starts once its last one ended. */
async function run(broker: Broker, ops: Op[]): Promise<void> {
  const producers = [0, 1, 2].map((i) => broker.producer({ transactionalId: `tx-${i}` }));
  const open: (Transaction | undefined)[] = [];
  const ending: (Promise<void> | undefined)[] = [];
  const sends: Promise<unknown>[] = [];
  let n = 0;
  for (const o of ops) {
    if (o.kind === 'send') {
      if (open[o.producer] === undefined) {
        await ending[o.producer];
        open[o.producer] = producers[o.producer]!.transaction();
      }
      const messages = Array.from({ length: o.records }, () => ({ value: `v${n++}`, partition: o.partition }));
      sends.push(open[o.producer]!.send({ topic: 't', messages }));
    } else if (open[o.producer] !== undefined) {
      const t = open[o.producer]!;
      open[o.producer] = undefined;
      ending[o.producer] = o.kind === 'commit' ? t.commit() : t.abort();
    }
  }
  for (const t of open) if (t !== undefined) await t.abort();
  await Promise.all(ending);
  await Promise.all(sends);
}

/** The scan's answer: a producer state replayed from the partition's batches. */
async function scanned(p: PartitionState): Promise<ProducerStateTable> {
  const table = new ProducerStateTable();
  for (let next = p.logStartOffset; next < p.logEndOffset; ) {
    const batches = await p.readBatches(next, 1 << 20);
    for (const b of batches) {
      table.replay(b);
      next = batchLastOffset(b) + 1;
    }
  }
  return table;
}

/** Every fetch range of the partition: the index's aborted transactions against the scan's, and read_committed's from every offset. */
async function compare(broker: Broker, storage: FileStorage): Promise<number> {
  let aborted = 0;
  for (let id = 0; id < PARTITIONS; id++) {
    const p = broker.topic('t').partition(id) as unknown as PartitionState;
    const log: PartitionLog = storage.log('t', id);
    const table = await scanned(p);
    const end = p.logEndOffset;
    aborted += table.abortedBetween(0, end + 1).length;
    for (let from = 0; from <= end; from++) {
      for (let to = from; to <= end + 1; to++) expect(await log.abortedTransactions!(from, to), `t-${id} [${from}, ${to})`).toEqual(table.abortedBetween(from, to));
      for (const maxBytes of [1, 1 << 20]) {
        const read = await p.readCommitted(from, maxBytes);
        const upTo = read.batches.length === 0 ? from : batchLastOffset(read.batches[read.batches.length - 1]!) + 1;
        expect(read.abortedTransactions, `t-${id} read_committed from ${from}`).toEqual(table.abortedBetween(from, upTo));
      }
    }
  }
  return aborted;
}

describe('the .txnindex against the scan of the log', () => {
  it('gives the same aborted transactions for every fetch range: as written, reopened, and rebuilt from the log', async () => {
    let abortedSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.nat(), async (ops, damageSeed) => {
        const dir = tempDir('txn-index');
        try {
          const open = async () => {
            const storage = new FileStorage({ dir, fsync: 'never' });
            return { storage, broker: await Broker.open({ storage }) };
          };
          let { storage, broker } = await open();
          await broker.createTopic('t', { partitions: PARTITIONS, segmentBytes: 300 });
          await run(broker, ops);
          abortedSeen += await compare(broker, storage);
          await broker.close();

          ({ storage, broker } = await open());
          await compare(broker, storage);
          await broker.close();

          // Lose some index files and tear others: the log is trusted, the indexes rebuilt.
          const folder = join(dir, 't-0');
          const txnFiles = readdirSync(folder).filter((n) => n.endsWith('.txnindex')).sort();
          txnFiles.forEach((name, i) => {
            const path = join(folder, name);
            if ((i + damageSeed) % 3 === 0) rmSync(path);
            else if ((i + damageSeed) % 3 === 1 && statSync(path).size > 0) truncateSync(path, statSync(path).size - 1);
          });
          ({ storage, broker } = await open());
          await compare(broker, storage);
          await broker.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 25 },
    );
    expect(abortedSeen, 'the workloads aborted transactions').toBeGreaterThan(0);
  });
});
