/**
 * The contract every `Storage` must keep, as a reusable vitest suite. It speaks only through the
 * public `Storage` / `PartitionLog` interfaces, so any implementation (memory, file, a user's own)
 * runs the very same tests:
 *
 * ```ts
 * describeStorageContract('MemoryStorage', async () => {
 *   const storage = new MemoryStorage();
 *   return { storage, reopen: async () => storage };
 * });
 * ```
 *
 * Every log method may return a value or a promise, so the suite always awaits them.
 */

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RecordBatchBuilder,
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  checkBatch,
  decodeRecordBatch,
  type PartitionLog,
  type ResolvedTopicConfig,
  type RetentionPolicy,
  type Storage,
  type StoredTopic,
} from 'kafkalite';
import { setBatchBaseOffset } from '../../src/codec/record-batch.js';
import { expectError } from '../helpers.js';

/** What the factory hands the suite for one test. */
export interface StorageUnderTest {
  /** A storage over empty backing data (a fresh directory, a new instance), not opened yet. */
  storage: Storage;
  /**
   * A storage over the same backing data, not opened yet: a new instance on the same directory for
   * a file storage, the same instance for `MemoryStorage`. The suite calls it after closing the
   * previous storage — except the lock test, which calls it while the first one is still open.
   */
  reopen: () => Promise<Storage>;
  /** Runs after each test, once the suite has closed whatever it opened (e.g. removes the directory). */
  cleanup?: () => Promise<void>;
}

export interface StorageContractOptions {
  /**
   * How finely retention drops data. 'batch' (the default): whole batches, exactly by the rules of
   * `RetentionPolicy`, asserted exactly. 'segment': whole segments, so a storage may keep more than
   * the batch rule would; the suite then checks that it never drops more than the batch rule, only
   * moves forward, stops on a batch boundary, and keeps a bounded number of bytes.
   */
  retentionGranularity?: 'batch' | 'segment';
  /** `segmentBytes` of every topic the suite saves. @default 1024 */
  segmentBytes?: number;
}

/** Large enough to mean "everything" in a test, and still a plausible fetch size. */
const ALL = 0x7fffffff;

export function describeStorageContract(
  name: string,
  make: () => Promise<StorageUnderTest>,
  options: StorageContractOptions = {},
): void {
  const granularity = options.retentionGranularity ?? 'batch';
  const segmentBytes = options.segmentBytes ?? 1024;

  const config = (partitions: number, overrides: Partial<ResolvedTopicConfig> = {}): ResolvedTopicConfig => ({
    partitions,
    retentionMs: 604_800_000,
    retentionBytes: -1,
    segmentBytes,
    cleanupPolicy: 'delete',
    maxMessageBytes: 1_048_576,
  deleteRetentionMs: 86_400_000,
  minCleanableDirtyRatio: 0.5,
    ...overrides,
  });
  const topic = (topicName: string, partitions: number, overrides: Partial<ResolvedTopicConfig> = {}): StoredTopic => ({
    name: topicName,
    partitions,
    config: config(partitions, overrides),
  });

  describe(name, () => {
    let h: Session;

    beforeEach(async () => {
      h = new Session(await make());
    });

    afterEach(async () => {
      await h.dispose();
    });

    /** A model of one log: what it must hold. */
    class Model {
      start = 0;
      end = 0;
      /** The batches kept, from `start`, as copies of what was appended. */
      batches: Buffer[] = [];

      async append(log: PartitionLog, spec: BatchSpec = {}): Promise<Buffer> {
        const batch = await appendBatch(log, spec);
        this.batches.push(batch);
        this.end = batchLastOffset(batch) + 1;
        return batch;
      }

      /** What `read(offset, maxBytes)` must return. */
      read(offset: number, maxBytes: number): Buffer[] {
        if (offset >= this.end || this.batches.length === 0) return [];
        const from = Math.max(offset, this.start);
        let i = this.batches.findIndex((b) => batchLastOffset(b) >= from);
        const out: Buffer[] = [];
        let bytes = 0;
        for (; i >= 0 && i < this.batches.length; i++) {
          const b = this.batches[i]!;
          if (out.length > 0 && bytes + b.length > maxBytes) break;
          out.push(b);
          bytes += b.length;
        }
        return out;
      }

      /**
       * The log start offset the batch-granular rule gives for `policy`: from the front, a batch goes
       * when it expired, or when the bytes after it still reach `retentionBytes` — except the newest
       * batch, which size retention always keeps (as Kafka keeps its active segment).
       */
      retentionStart(policy: RetentionPolicy): number {
        let size = this.batches.reduce((n, b) => n + b.length, 0);
        for (const [i, b] of this.batches.entries()) {
          const newest = i === this.batches.length - 1;
          const overSize = policy.retentionBytes >= 0 && !newest && size - b.length >= policy.retentionBytes;
          const expired = policy.retentionMs >= 0 && batchMaxTimestamp(b) < policy.now - policy.retentionMs;
          if (!overSize && !expired) return batchBaseOffset(b);
          size -= b.length;
        }
        return this.end;
      }

      /** Drops the batches below `start`, which must be a batch boundary. */
      dropTo(start: number): void {
        const i = this.batches.findIndex((b) => batchBaseOffset(b) >= start);
        this.batches = i < 0 ? [] : this.batches.slice(i);
        this.start = start;
      }

      get bytes(): number {
        return this.batches.reduce((n, b) => n + b.length, 0);
      }

      async check(log: PartitionLog): Promise<void> {
        expect(log.logStartOffset, 'logStartOffset').toBe(this.start);
        expect(log.logEndOffset, 'logEndOffset').toBe(this.end);
        expectBatches(await log.read(this.start, ALL), this.batches);
      }
    }

    /**
     * Applies `policy` to `log`, checks the result against the model (exactly for 'batch', loosely
     * for 'segment') and moves the model to what the log kept. Returns the new log start offset.
     */
    async function retain(log: PartitionLog, model: Model, policy: RetentionPolicy): Promise<number> {
      const before = log.logStartOffset;
      const expected = model.retentionStart(policy);
      const boundaries = [...model.batches.map((b) => batchBaseOffset(b)), model.end];
      const returned = await log.applyRetention(policy);

      expect(returned, 'applyRetention returns the new logStartOffset').toBe(log.logStartOffset);
      expect(log.logEndOffset, 'retention never moves logEndOffset').toBe(model.end);
      expect(returned, 'logStartOffset only moves forward').toBeGreaterThanOrEqual(before);
      expect(boundaries, 'logStartOffset lands on a batch boundary').toContain(returned);
      if (granularity === 'batch') {
        expect(returned, `logStartOffset after ${JSON.stringify(policy)}`).toBe(expected);
      } else {
        expect(returned, 'retention never drops more than the batch rule').toBeLessThanOrEqual(expected);
      }
      model.dropTo(returned);

      const kept = await log.read(returned, ALL);
      expectBatches(kept, model.batches);
      const keptBytes = model.bytes;
      if (granularity === 'batch' && policy.retentionBytes >= 0 && kept.length > 0) {
        // The first kept batch stays because dropping it would leave fewer than retentionBytes
        // (or because it is the newest).
        expect(keptBytes).toBeLessThanOrEqual(policy.retentionBytes + kept[0]!.length);
      }
      if (policy.retentionMs < 0 && model.end > before) {
        expect(returned, 'size retention keeps the newest batch').toBeLessThan(model.end);
      }
      if (returned < model.end) {
        const below = await log.read(0, ALL);
        expect(below.length).toBeGreaterThan(0);
        expect(batchBaseOffset(below[0]!), 'a read below logStartOffset starts at logStartOffset').toBe(returned);
      } else {
        expect(await log.read(0, ALL)).toEqual([]);
      }
      return returned;
    }

    // -------------------------------------------------------------------------------------------
    // Topics

    describe('topics', () => {
      it('open() on a fresh storage returns no topics', async () => {
        expect(await h.open()).toEqual([]);
      });

      it('keeps saved topics, with their partitions and config, across close and reopen', async () => {
        await h.open();
        const orders = topic('orders', 3);
        const audit = topic('audit.log-v2_x', 1, { retentionMs: -1, retentionBytes: 123_456, cleanupPolicy: 'compact', maxMessageBytes: 5000 });
        await h.storage.saveTopic(orders);
        await h.storage.saveTopic(audit);
        const topics = await h.restart();
        expect(byName(topics)).toEqual(byName([orders, audit]));
        for (const t of [orders, audit]) {
          for (let p = 0; p < t.partitions; p++) {
            const log = h.log(t.name, p);
            expect([log.logStartOffset, log.logEndOffset]).toEqual([0, 0]);
          }
        }
      });

      it('keeps a topic id given to saveTopic, through growth and a restart', async () => {
        await h.open();
        const t = { ...topic('with-id', 1), id: 'XIKle7NXSaeaurPPrg-KwQ' };
        await h.storage.saveTopic(t);
        await h.storage.saveTopic({ ...t, partitions: 2, config: { ...t.config, partitions: 2 } });
        const topics = await h.restart();
        expect(topics.find((x) => x.name === 'with-id')).toMatchObject({ id: 'XIKle7NXSaeaurPPrg-KwQ', partitions: 2 });
      });

      it('does not keep a reference to the topic object it was given', async () => {
        await h.open();
        const t = topic('mutable', 2);
        await h.storage.saveTopic(t);
        t.partitions = 7;
        t.config.partitions = 7;
        t.config.retentionMs = 1;
        const topics = await h.restart();
        expect(topics).toEqual([topic('mutable', 2)]);
      });

      it('grows a topic saved again with more partitions and keeps the data of its existing logs', async () => {
        await h.open();
        await h.storage.saveTopic(topic('grow', 2));
        const m0 = new Model();
        const m1 = new Model();
        await m0.append(h.log('grow', 0), { records: 3 });
        await m0.append(h.log('grow', 0), { records: 1 });
        await m1.append(h.log('grow', 1), { records: 2 });

        await h.storage.saveTopic(topic('grow', 5));
        await m0.check(h.log('grow', 0));
        await m1.check(h.log('grow', 1));
        for (let p = 2; p < 5; p++) await new Model().check(h.log('grow', p));

        const topics = await h.restart();
        expect(topics).toEqual([topic('grow', 5)]);
        await m0.check(h.log('grow', 0));
        await m1.check(h.log('grow', 1));
        const m4 = new Model();
        await m4.check(h.log('grow', 4));
        await m4.append(h.log('grow', 4), { records: 2 });
        await m4.check(h.log('grow', 4));
        await m0.append(h.log('grow', 0));
        await m0.check(h.log('grow', 0));
      });

      it('deleteTopic removes the topic and its logs; a new topic of the same name starts empty', async () => {
        await h.open();
        await h.storage.saveTopic(topic('gone', 2));
        await h.storage.saveTopic(topic('kept', 1));
        const kept = new Model();
        await kept.append(h.log('kept', 0), { records: 2 });
        for (let p = 0; p < 2; p++) {
          await appendBatch(h.log('gone', p), { records: 4 });
          await appendBatch(h.log('gone', p), { records: 1 });
        }

        await h.storage.deleteTopic('gone');
        expect(await h.restart()).toEqual([topic('kept', 1)]);
        await kept.check(h.log('kept', 0));

        await h.storage.saveTopic(topic('gone', 1));
        const fresh = new Model();
        await fresh.check(h.log('gone', 0));
        expect(await h.log('gone', 0).read(0, ALL)).toEqual([]);
        const first = await fresh.append(h.log('gone', 0), { records: 2 });
        expect(batchBaseOffset(first)).toBe(0);
        await fresh.check(h.log('gone', 0));

        expect(byName(await h.restart())).toEqual(byName([topic('kept', 1), topic('gone', 1)]));
        await fresh.check(h.log('gone', 0));
        await kept.check(h.log('kept', 0));
      });

      it('deleteTopic then saveTopic without a restart also starts empty', async () => {
        await h.open();
        await h.storage.saveTopic(topic('again', 1));
        await appendBatch(h.log('again', 0), { records: 5 });
        await h.storage.deleteTopic('again');
        await h.storage.saveTopic(topic('again', 1));
        const model = new Model();
        await model.check(h.log('again', 0));
        await model.append(h.log('again', 0));
        expect(await h.restart()).toEqual([topic('again', 1)]);
        await model.check(h.log('again', 0));
      });
    });

    // -------------------------------------------------------------------------------------------
    // Append and read

    describe('append and read', () => {
      let log: PartitionLog;
      let model: Model;

      beforeEach(async () => {
        await h.open();
        await h.storage.saveTopic(topic('t', 1));
        log = h.log('t', 0);
        model = new Model();
      });

      it('a new log is empty at offset 0', async () => {
        expect(log.logStartOffset).toBe(0);
        expect(log.logEndOffset).toBe(0);
        expect(await log.read(0, ALL)).toEqual([]);
        expect(await log.read(0, 0)).toEqual([]);
        expect(await log.read(5, ALL)).toEqual([]);
      });

      it('append moves logEndOffset past the batch before it returns', async () => {
        for (const records of [1, 3, 1, 7, 2]) {
          const batch = buildBatch(log.logEndOffset, { records });
          const end = batchLastOffset(batch) + 1;
          const pending = log.append(batch);
          expect(log.logEndOffset).toBe(end);
          await pending;
          expect(log.logEndOffset).toBe(end);
        }
        expect(log.logEndOffset).toBe(14);
        expect(log.logStartOffset).toBe(0);
      });

      it('takes the next append before the previous one has settled', async () => {
        const expected: Buffer[] = [];
        const pending: unknown[] = [];
        for (const records of [2, 1, 4, 1, 3]) {
          const batch = buildBatch(log.logEndOffset, { records });
          expected.push(Buffer.from(batch));
          pending.push(log.append(batch));
          expect(log.logEndOffset).toBe(batchLastOffset(batch) + 1);
          // A read while appends are in flight returns whole, valid batches of what was appended.
          const seen = await log.read(0, ALL);
          expectBatches(seen, expected.slice(0, seen.length));
        }
        await Promise.all(pending);
        expectBatches(await log.read(0, ALL), expected);
        expect(log.logEndOffset).toBe(11);
      });

      it('gives back exactly the bytes appended, valid batches with every record', async () => {
        await model.append(log, { records: 1, valueSize: 0 });
        await model.append(log, { records: 5, valueSize: 100, headers: true });
        await model.append(log, { records: 2, valueSize: 3000 });
        await model.append(log, { records: 1, valueSize: 10, nullValue: true });
        const got = await log.read(0, ALL);
        expectBatches(got, model.batches);
        for (const batch of got) {
          expect(checkBatch(batch)).toBeUndefined();
          const { header, records } = decodeRecordBatch(batch);
          expect(records.map((r) => r.offset)).toEqual(range(header.baseOffset, header.baseOffset + header.recordCount));
          for (const r of records) expect(r.key?.toString()).toBe(keyOf(r.offset));
        }
      });

      it('reads whole batches from the one holding the offset, up to maxBytes but at least one', async () => {
        const b0 = await model.append(log, { records: 2, valueSize: 10 }); // 0..1
        const b1 = await model.append(log, { records: 3, valueSize: 40 }); // 2..4
        const b2 = await model.append(log, { records: 1, valueSize: 500 }); // 5
        const b3 = await model.append(log, { records: 4, valueSize: 5 }); // 6..9
        const b4 = await model.append(log, { records: 1, valueSize: 60 }); // 10
        const all = [b0, b1, b2, b3, b4];
        const total = all.reduce((n, b) => n + b.length, 0);

        expectBatches(await log.read(0, ALL), all);
        expectBatches(await log.read(0, total), all);
        expectBatches(await log.read(0, total - 1), [b0, b1, b2, b3]);
        expectBatches(await log.read(0, b0.length + b1.length), [b0, b1]);
        expectBatches(await log.read(0, b0.length + b1.length - 1), [b0]);
        expectBatches(await log.read(0, b0.length), [b0]);
        // Always at least one batch, however small maxBytes is.
        expectBatches(await log.read(0, 1), [b0]);
        expectBatches(await log.read(0, 0), [b0]);
        expectBatches(await log.read(5, 10), [b2]);
        // The first batch may begin before the offset asked for.
        expectBatches(await log.read(1, ALL), all);
        expectBatches(await log.read(3, b1.length + b2.length), [b1, b2]);
        expectBatches(await log.read(4, b1.length), [b1]);
        expectBatches(await log.read(7, ALL), [b3, b4]);
        expectBatches(await log.read(9, 1), [b3]);
        expectBatches(await log.read(10, ALL), [b4]);
        // At or past the end: nothing.
        expect(await log.read(11, ALL)).toEqual([]);
        expect(await log.read(12, ALL)).toEqual([]);
        expect(await log.read(1000, 0)).toEqual([]);
        // Every offset agrees with the model.
        for (let offset = 0; offset <= 12; offset++) {
          for (const maxBytes of [0, 100, 600, 1000, ALL]) {
            expectBatches(await log.read(offset, maxBytes), model.read(offset, maxBytes));
          }
        }
      });

      it('refuses a batch that does not start at logEndOffset, and changes nothing', async () => {
        const refuse = async (baseOffset: number): Promise<void> => {
          let refused = false;
          try {
            await log.append(buildBatch(baseOffset, { records: 2 }));
          } catch {
            refused = true;
          }
          expect(refused, `append at ${baseOffset} with logEndOffset ${model.end}`).toBe(true);
          await model.check(log);
        };
        await refuse(1);
        await model.append(log, { records: 3 }); // 0..2
        await model.append(log, { records: 1 }); // 3
        await refuse(0);
        await refuse(3);
        await refuse(2);
        await refuse(5);
        await refuse(100);
        await model.append(log, { records: 2 });
        await model.check(log);
        expect(log.logEndOffset).toBe(6);
      });

      it('returns the same bytes on every read, and a read result keeps them', async () => {
        await model.append(log, { records: 3, valueSize: 50 });
        await model.append(log, { records: 1, valueSize: 70 });
        const first = await log.read(0, ALL);
        const copies = first.map((b) => Buffer.from(b));
        const second = await log.read(0, ALL);
        expectBatches(second, copies);
        // More appends and retention do not change what a reader already holds.
        for (let i = 0; i < 20; i++) await model.append(log, { records: 2, valueSize: 30 });
        await retain(log, model, { retentionBytes: model.batches[model.batches.length - 1]!.length, retentionMs: -1, now: 0 });
        expectBatches(first, copies);
        expectBatches(second, copies);
      });

      it('flush() resolves and loses nothing', async () => {
        await model.append(log, { records: 2 });
        await log.flush();
        await model.append(log, { records: 1 });
        await log.flush();
        await log.flush();
        await model.check(log);
      });
    });

    // -------------------------------------------------------------------------------------------
    // Reopen

    describe('reopen', () => {
      it('keeps every batch and both offsets across close and reopen, and appends on from there', async () => {
        await h.open();
        await h.storage.saveTopic(topic('t', 2));
        const m0 = new Model();
        const m1 = new Model();
        for (let i = 0; i < 30; i++) await m0.append(h.log('t', 0), { records: 1 + (i % 4), valueSize: 20 + i * 7, headers: i % 3 === 0 });
        await m1.append(h.log('t', 1), { records: 1 });

        await h.restart();
        await m0.check(h.log('t', 0));
        await m1.check(h.log('t', 1));
        for (const batch of await h.log('t', 0).read(0, ALL)) expect(checkBatch(batch)).toBeUndefined();

        const next = await m0.append(h.log('t', 0), { records: 3 });
        expect(batchBaseOffset(next)).toBe(m0.end - 3);
        await m1.append(h.log('t', 1), { records: 2 });
        await m0.check(h.log('t', 0));
        await m1.check(h.log('t', 1));

        await h.restart();
        await m0.check(h.log('t', 0));
        await m1.check(h.log('t', 1));
        for (let offset = 0; offset <= m0.end; offset += 3) {
          expectBatches(await h.log('t', 0).read(offset, 700), m0.read(offset, 700));
        }
      });

      it('keeps logStartOffset after retention, and logEndOffset even when retention dropped everything', async () => {
        await h.open();
        await h.storage.saveTopic(topic('t', 2));
        const kept = new Model();
        const emptied = new Model();
        for (let i = 0; i < 40; i++) {
          await kept.append(h.log('t', 0), { records: 2, valueSize: 100 });
          await emptied.append(h.log('t', 1), { records: 1, valueSize: 100, timestamp: 1000 + i });
        }
        await retain(h.log('t', 0), kept, { retentionBytes: 1000, retentionMs: -1, now: 0 });
        await retain(h.log('t', 1), emptied, { retentionBytes: -1, retentionMs: 0, now: 1_000_000 });

        await h.restart();
        await kept.check(h.log('t', 0));
        await emptied.check(h.log('t', 1));

        await kept.append(h.log('t', 0));
        const next = await emptied.append(h.log('t', 1), { records: 2 });
        expect(batchBaseOffset(next)).toBe(40);
        await kept.check(h.log('t', 0));
        await emptied.check(h.log('t', 1));
        await h.restart();
        await kept.check(h.log('t', 0));
        await emptied.check(h.log('t', 1));
      });
    });

    // -------------------------------------------------------------------------------------------
    // Retention

    describe('retention', () => {
      let log: PartitionLog;
      let model: Model;

      beforeEach(async () => {
        await h.open();
        await h.storage.saveTopic(topic('t', 1));
        log = h.log('t', 0);
        model = new Model();
      });

      const bytes = (retentionBytes: number): RetentionPolicy => ({ retentionBytes, retentionMs: -1, now: 0 });
      const time = (retentionMs: number, now: number): RetentionPolicy => ({ retentionBytes: -1, retentionMs, now });

      it('on an empty log keeps it empty at 0', async () => {
        expect(await log.applyRetention({ retentionBytes: 0, retentionMs: 0, now: 1e12 })).toBe(0);
        await model.check(log);
      });

      it('-1 disables both rules', async () => {
        for (let i = 0; i < 10; i++) await model.append(log, { records: 2, timestamp: i });
        expect(await retain(log, model, { retentionBytes: -1, retentionMs: -1, now: 1e12 })).toBe(0);
        await model.check(log);
        expect(await retain(log, model, time(-1, 1e12))).toBe(0);
        expect(await retain(log, model, bytes(-1))).toBe(0);
        await model.check(log);
      });

      it('by bytes, drops the oldest whole batches while what stays is at least retentionBytes', async () => {
        // Ten batches of the same size S.
        for (let i = 0; i < 10; i++) await model.append(log, { records: 3, valueSize: 40 });
        const size = model.batches[0]!.length;
        expect(model.batches.every((b) => b.length === size)).toBe(true);

        await retain(log, model, bytes(size * 10)); // exactly fits: nothing dropped
        expect(log.logStartOffset).toBe(0);
        await retain(log, model, bytes(size * 8 + 1)); // keeps 9
        await retain(log, model, bytes(size * 5)); // keeps exactly 5
        await retain(log, model, bytes(size * 7)); // a looser policy never brings anything back
        if (granularity === 'batch') {
          expect(log.logStartOffset).toBe(15);
          expect(model.bytes).toBe(size * 5);
        }
        await retain(log, model, bytes(1)); // keeps 1
        if (granularity === 'batch') expect(log.logStartOffset).toBe(27);
        await model.check(log);
        const next = await model.append(log, { records: 3, valueSize: 40 });
        expect(batchBaseOffset(next)).toBe(30);
        await model.check(log);
      });

      it('by bytes with mixed sizes, keeps a bounded amount', async () => {
        for (let i = 0; i < 200; i++) await model.append(log, { records: 1 + (i % 5), valueSize: (i * 37) % 250 });
        const largest = Math.max(...model.batches.map((b) => b.length));
        const limit = 4000;
        await retain(log, model, bytes(limit));
        expect(model.bytes).toBeGreaterThanOrEqual(limit);
        const slack = granularity === 'batch' ? largest : 2 * (segmentBytes + largest);
        expect(model.bytes).toBeLessThanOrEqual(limit + slack);
        await model.check(log);
      });

      it('by bytes, keeps the newest batch however small retentionBytes is', async () => {
        for (let i = 0; i < 20; i++) await model.append(log, { records: 2 });
        const start = await retain(log, model, bytes(0));
        if (granularity === 'batch') expect(start).toBe(38);
        expect(start).toBeLessThan(40);
        await model.append(log, { records: 1, valueSize: 1000 });
        await retain(log, model, bytes(1));
        if (granularity === 'batch') expect(log.logStartOffset).toBe(40);
        await model.check(log);
        expectBatches(await log.read(0, ALL), model.read(0, ALL));
      });

      it('by time, may drop every batch; the log then appends on at logEndOffset', async () => {
        for (let i = 0; i < 20; i++) await model.append(log, { records: 2, timestamp: 100 + i });
        const start = await retain(log, model, { retentionBytes: 0, retentionMs: 10, now: 1000 });
        if (granularity === 'batch') expect(start).toBe(40);
        expectBatches(await log.read(start, ALL), model.read(start, ALL));
        const next = await model.append(log, { records: 1 });
        expect(batchBaseOffset(next)).toBe(40);
        await model.check(log);
        expectBatches(await log.read(0, ALL), model.read(0, ALL));
      });

      it('by time, drops batches from the front whose newest record is older than now - retentionMs', async () => {
        // Max timestamps: 100, 200, 300, 150, 400, 250.
        await model.append(log, { timestamps: [50, 100] }); // 0..1
        await model.append(log, { timestamps: [200] }); // 2
        await model.append(log, { timestamps: [300, 120, 10] }); // 3..5
        await model.append(log, { timestamps: [150] }); // 6
        await model.append(log, { timestamps: [400, 399] }); // 7..8
        await model.append(log, { timestamps: [250] }); // 9

        await retain(log, model, time(1000, 1100)); // cutoff 100: 100 is not older
        expect(log.logStartOffset).toBe(0);
        await retain(log, model, time(1000, 1101)); // cutoff 101
        if (granularity === 'batch') expect(log.logStartOffset).toBe(2);
        await retain(log, model, time(1000, 1250)); // cutoff 250: stops at 300; 150 and 250 stay
        if (granularity === 'batch') expect(log.logStartOffset).toBe(3);
        await retain(log, model, time(1000, 1000)); // an earlier now never brings anything back
        await retain(log, model, time(100, 401)); // cutoff 301: 300 and 150 go, 400 stops it
        if (granularity === 'batch') expect(log.logStartOffset).toBe(7);
        await retain(log, model, time(0, 401)); // cutoff 401: everything
        if (granularity === 'batch') expect(log.logStartOffset).toBe(10);
        await model.check(log);
        await model.append(log, { timestamps: [0] });
        await model.check(log);
      });

      it('applies both rules together: a batch goes when either says so', async () => {
        for (let i = 0; i < 12; i++) await model.append(log, { records: 1, valueSize: 100, timestamp: i < 6 ? 1000 : 5000 });
        const size = model.batches[0]!.length;
        // Size alone keeps 8, time alone drops the first 6; together the stricter one wins.
        await retain(log, model, { retentionBytes: size * 8, retentionMs: 1000, now: 2500 });
        if (granularity === 'batch') expect(log.logStartOffset).toBe(6);
        await retain(log, model, { retentionBytes: size * 3, retentionMs: 1000, now: 2500 });
        if (granularity === 'batch') expect(log.logStartOffset).toBe(9);
        await model.check(log);
      });

      it('reads below logStartOffset start at logStartOffset', async () => {
        for (let i = 0; i < 30; i++) await model.append(log, { records: 2, valueSize: 60 });
        const start = await retain(log, model, bytes(model.batches[0]!.length * 4));
        if (granularity === 'batch') expect(start).toBe(52);
        for (const offset of [0, 1, start - 1, start]) {
          expectBatches(await log.read(offset, ALL), model.read(offset, ALL));
          expectBatches(await log.read(offset, 0), model.read(offset, 0));
        }
      });
    });

    // -------------------------------------------------------------------------------------------
    // Lock, scale, model

    it('refuses a second open() with STORAGE_LOCKED while open, and opens again after close', async () => {
      await h.open();
      await h.storage.saveTopic(topic('t', 1));
      const model = new Model();
      await model.append(h.log('t', 0), { records: 2 });

      const other = await h.reopen();
      await expectError(() => other.open(), 'STORAGE_LOCKED');
      // The first one is unharmed.
      await model.append(h.log('t', 0), { records: 1 });
      await model.check(h.log('t', 0));

      await h.close();
      expect(await h.openInstead(other)).toEqual([topic('t', 1)]);
      await model.check(h.log('t', 0));
      const again = await h.reopen();
      await expectError(() => again.open(), 'STORAGE_LOCKED');
    });

    it('keeps independent offsets for 50 topics x 4 partitions', async () => {
      await h.open();
      const topics = range(0, 50).map((i) => topic(`topic-${i}`, 4));
      for (const t of topics) await h.storage.saveTopic(t);
      const models = new Map<string, Model>();
      for (let i = 0; i < 50; i++) {
        for (let p = 0; p < 4; p++) {
          const model = new Model();
          models.set(`${i}/${p}`, model);
          const log = h.log(`topic-${i}`, p);
          for (let n = 0; n < (i + p) % 4; n++) await model.append(log, { records: 1 + ((i * 4 + p + n) % 5), valueSize: i + p });
        }
      }
      const check = async (): Promise<void> => {
        for (let i = 0; i < 50; i++) {
          for (let p = 0; p < 4; p++) await models.get(`${i}/${p}`)!.check(h.log(`topic-${i}`, p));
        }
      };
      await check();
      expect(byName(await h.restart())).toEqual(byName(topics));
      await check();
      for (let i = 0; i < 50; i += 7) await models.get(`${i}/${i % 4}`)!.append(h.log(`topic-${i}`, i % 4), { records: 2 });
      await check();
    });

    it('matches a model of the log under random appends, reads, retention and restarts', async () => {
      await h.open();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(commandArbitrary, { maxLength: 40 }), async (commands) => {
          const name = `prop-${run++}`;
          await h.storage.saveTopic(topic(name, 1));
          const model = new Model();
          for (const cmd of commands) {
            const log = h.log(name, 0);
            switch (cmd.kind) {
              case 'append':
                await model.append(log, cmd);
                break;
              case 'read': {
                const offset = cmd.pick % (model.end + 3);
                expectBatches(await log.read(offset, cmd.maxBytes), model.read(offset, cmd.maxBytes));
                break;
              }
              case 'retain':
                await retain(log, model, cmd);
                break;
              case 'restart':
                await h.restart();
                break;
            }
            await model.check(h.log(name, 0));
          }
          await h.storage.deleteTopic(name);
        }),
        { seed: 7, numRuns: 100 },
      );
    });
  });
}

// -----------------------------------------------------------------------------------------------
// Helpers

/** One test's storage: which instance is current, and whether the suite opened it. */
class Session {
  storage: Storage;
  #isOpen = false;
  #under: StorageUnderTest;

  constructor(under: StorageUnderTest) {
    this.#under = under;
    this.storage = under.storage;
  }

  async open(): Promise<StoredTopic[]> {
    const topics = await this.storage.open();
    this.#isOpen = true;
    return topics;
  }

  /** Closes the current storage, takes a reopened one over the same data and opens it. */
  async restart(): Promise<StoredTopic[]> {
    await this.close();
    this.storage = await this.#under.reopen();
    return this.open();
  }

  /** A storage over the same data, not opened and not made current. */
  reopen(): Promise<Storage> {
    return this.#under.reopen();
  }

  /** Opens `storage` (the current one must be closed) and makes it current. */
  async openInstead(storage: Storage): Promise<StoredTopic[]> {
    this.storage = storage;
    return this.open();
  }

  async close(): Promise<void> {
    if (!this.#isOpen) return;
    this.#isOpen = false;
    await this.storage.close();
  }

  log(topic: string, partition: number): PartitionLog {
    return this.storage.log(topic, partition);
  }

  async dispose(): Promise<void> {
    try {
      await this.close();
    } finally {
      await this.#under.cleanup?.();
    }
  }
}

interface BatchSpec {
  records?: number;
  /** One timestamp per record; overrides `records`. */
  timestamps?: number[];
  /** Every record's timestamp. @default 1000 + its offset */
  timestamp?: number;
  valueSize?: number;
  nullValue?: boolean;
  headers?: boolean;
}

const keyOf = (offset: number): string => `key-${String(offset).padStart(10, '0')}`;

/** A batch as the partition hands it over: offsets assigned, in its own buffer. */
function buildBatch(baseOffset: number, spec: BatchSpec = {}): Buffer {
  const count = spec.timestamps?.length ?? spec.records ?? 1;
  const builder = new RecordBatchBuilder(128);
  for (let i = 0; i < count; i++) {
    const offset = baseOffset + i;
    const value = Buffer.alloc(spec.valueSize ?? 16);
    for (let j = 0; j < value.length; j++) value[j] = (offset * 31 + j * 7) & 0xff;
    const timestamp = spec.timestamps?.[i] ?? spec.timestamp ?? 1000 + offset;
    builder.append(timestamp, keyOf(offset), spec.nullValue ? null : value, spec.headers ? { h: `v${offset}`, empty: '' } : undefined);
  }
  const batch = Buffer.from(builder.build());
  setBatchBaseOffset(batch, baseOffset);
  return batch;
}

/**
 * Appends a batch at `log.logEndOffset`, checks that `logEndOffset` moved before `append`
 * returned, and returns a copy of the bytes (the log owns the batch itself).
 */
async function appendBatch(log: PartitionLog, spec: BatchSpec = {}): Promise<Buffer> {
  const batch = buildBatch(log.logEndOffset, spec);
  const copy = Buffer.from(batch);
  const pending = log.append(batch);
  expect(log.logEndOffset, 'logEndOffset moves before append returns').toBe(batchLastOffset(copy) + 1);
  await pending;
  return copy;
}

/** Asserts that `actual` are exactly the bytes of `expected`, batch for batch. */
function expectBatches(actual: Uint8Array[], expected: Uint8Array[]): void {
  const describeAll = (batches: Uint8Array[]): string[] =>
    batches.map((b) => `${batchBaseOffset(b)}..${batchLastOffset(b)} (${b.length} bytes)`);
  expect(describeAll(actual)).toEqual(describeAll(expected));
  for (let i = 0; i < expected.length; i++) {
    expect(Buffer.compare(actual[i]!, expected[i]!), `bytes of batch ${i}`).toBe(0);
  }
}

function byName(topics: StoredTopic[]): StoredTopic[] {
  return [...topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

type Command =
  | { kind: 'append'; records: number; valueSize: number; timestamp: number; headers: boolean }
  | { kind: 'read'; pick: number; maxBytes: number }
  | { kind: 'retain'; retentionBytes: number; retentionMs: number; now: number }
  | { kind: 'restart' };

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      records: fc.integer({ min: 1, max: 5 }),
      valueSize: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 1500 })),
      timestamp: fc.integer({ min: 0, max: 10_000 }),
      headers: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      pick: fc.nat(),
      maxBytes: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.constant(ALL)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('retain' as const),
      retentionBytes: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 5000 })),
      retentionMs: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 5000 })),
      now: fc.integer({ min: 0, max: 15_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);
