/**
 * MemoryLog's slabs against a plain model (an array of whole batches): appends of every size
 * (small ones packed into slabs, big ones in slabs of their own, slabs growing from 4 KiB),
 * reads from any offset with any byte limit, retention by size and time, deleteRecordsBefore —
 * what a read returns is always exactly the model's batches, byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordBatchBuilder, batchBaseOffset, batchLastOffset, setBatchBaseOffset } from '../../../src/codec/record-batch.js';
import { MemoryLog } from '../../../src/storage/memory/memory-log.js';

function batch(baseOffset: number, records: number, valueSize: number, timestamp: number): Buffer {
  const b = new RecordBatchBuilder(128);
  for (let i = 0; i < records; i++) b.append(timestamp, null, Buffer.alloc(valueSize, (baseOffset + i) & 0xff));
  const bytes = b.build();
  setBatchBaseOffset(bytes, baseOffset);
  return bytes;
}

type Op =
  | { kind: 'append'; records: number; valueSize: number; age: number }
  | { kind: 'read'; at: number; maxBytes: number }
  | { kind: 'retain'; bytes: number; ms: number }
  | { kind: 'deleteBefore'; at: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), records: fc.integer({ min: 1, max: 5 }), valueSize: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 700_000 }) }), age: fc.integer({ min: 0, max: 100 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('read' as const), at: fc.nat({ max: 400 }), maxBytes: fc.integer({ min: 1, max: 2_000_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retain' as const), bytes: fc.integer({ min: -1, max: 2_000_000 }), ms: fc.integer({ min: -1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBefore' as const), at: fc.nat({ max: 400 }) }) },
);

describe('MemoryLog slabs', () => {
  it('reads back exactly what a plain list of batches holds, through appends, retention and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const log = new MemoryLog();
        let model: Buffer[] = [];
        let start = 0;
        let end = 0;
        const now = 1_000_000;
        for (const o of ops) {
          if (o.kind === 'append') {
            const b = batch(end, o.records, o.valueSize, now - o.age);
            log.append(b);
            model.push(Buffer.from(b));
            if (b.length < 4 << 10) b.fill(0); // a small batch is copied into a slab (a big one the caller gives up)
            end += o.records;
          } else if (o.kind === 'read') {
            const got = log.read(o.at, o.maxBytes);
            const from = Math.max(o.at, start);
            const want: Buffer[] = [];
            let bytes = 0;
            if (from < end) {
              for (const b of model) {
                if (batchLastOffset(b) < from) continue;
                if (want.length > 0 && bytes + b.length > o.maxBytes) break;
                want.push(b);
                bytes += b.length;
              }
            }
            expect(got.map((g) => Buffer.from(g).toString('hex'))).toEqual(want.map((w) => w.toString('hex')));
          } else if (o.kind === 'retain') {
            start = log.applyRetention({ retentionBytes: o.bytes, retentionMs: o.ms, now });
            model = model.filter((b) => batchLastOffset(b) >= start);
          } else {
            log.deleteRecordsBefore(o.at);
            if (o.at > start) start = Math.min(o.at, end);
            model = model.filter((b) => batchLastOffset(b) >= start);
          }
          expect(log.logStartOffset).toBe(start);
          expect(log.logEndOffset).toBe(end);
          expect(log.size).toBe(model.reduce((n, b) => n + b.length, 0));
          if (model.length === 0) expect(log.slabsHeld).toBeLessThanOrEqual(1); // at most the one being filled
          if (model.length > 0) expect(batchBaseOffset(model[0]!)).toBeLessThanOrEqual(Math.max(start, 0));
        }
      }),
      { numRuns: 150, seed: 20261201 },
    );
  });

  it('holds a million single-record batches in a few hundred slabs (and frees them with retention)', () => {
    const log = new MemoryLog();
    const one = batch(0, 1, 100, 1);
    for (let i = 0; i < 1_000_000; i++) {
      setBatchBaseOffset(one, i);
      log.append(one);
    }
    expect(log.logEndOffset).toBe(1_000_000);
    const slabs = log.slabsHeld;
    expect(slabs).toBeGreaterThan(100);
    expect(slabs).toBeLessThan(200); // ~170 MB in 1 MiB slabs (after a few smaller first ones)
    const [first] = log.read(999_999, 1);
    expect(batchBaseOffset(first!)).toBe(999_999);
    // Every batch a view of a slab far bigger than itself.
    expect(first!.buffer.byteLength).toBeGreaterThanOrEqual(1 << 20);
    log.applyRetention({ retentionBytes: one.length * 10, retentionMs: -1, now: 0 });
    expect(log.logStartOffset).toBe(999_990);
    expect(log.slabsHeld).toBeLessThanOrEqual(2);
    expect(log.read(0, 1 << 20).map((b) => batchBaseOffset(b))).toEqual(Array.from({ length: 10 }, (_, i) => 999_990 + i));
  });
});
