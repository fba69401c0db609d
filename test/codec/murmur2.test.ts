import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, toPositive } from '../../src/codec/murmur2.js';
import { partitionForKey, partitionForKeyBytes } from '../../src/topic/partitioner.js';
import { kafkajsMurmur2, kafkajsPartition } from './kafkajs-oracle.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** murmur2 vectors from Apache Kafka's `UtilsTest.testMurmur2` (Java client). */
const JAVA_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

/** Strings with any code point, astral ones included, and now and then a lone surrogate. */
const unicodeKey = fc.string({
  unit: fc.oneof(
    { weight: 8, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  ),
  maxLength: 40,
});

const keyArb = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), unicodeKey);
const partitionCountArb = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 1024 }));

describe('murmur2', () => {
  it.each(JAVA_VECTORS)('murmur2(%j) is %i, as in the Java client and KafkaJS', (key, expected) => {
    expect(murmur2(utf8(key))).toBe(expected);
    expect(kafkajsMurmur2(Buffer.from(key))).toBe(expected);
  });

  it('returns a signed 32-bit integer', () => {
    expect(murmur2(new Uint8Array(0))).toBe(kafkajsMurmur2(Buffer.alloc(0)));
    for (const [key] of JAVA_VECTORS) {
      const h = murmur2(utf8(key));
      expect(h).toBe(h | 0);
    }
  });

  it('equals KafkaJS murmur2 on random bytes (every tail length)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('hashes a Buffer view with a byteOffset by its own bytes', () => {
    const backing = utf8('xxxxfoobarxxxx');
    const view = Buffer.from(backing.buffer, 4, 6);
    expect(murmur2(view)).toBe(-790332482);
  });

  it('toPositive clears only the sign bit', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
    expect(toPositive(479470107)).toBe(479470107);
    expect(toPositive(0)).toBe(0);
  });
});

describe('partitionForKey agrees with KafkaJS DefaultPartitioner', () => {
  it('for the Java vectors', () => {
    for (const [key] of JAVA_VECTORS) {
      for (const n of [1, 2, 3, 6, 7, 12, 100, 1024]) {
        expect(partitionForKey(key, n)).toBe(kafkajsPartition(key, n));
        expect(partitionForKey(utf8(key), n)).toBe(kafkajsPartition(Buffer.from(key), n));
      }
    }
    // A few fixed answers, derived from the Java vectors.
    expect(partitionForKey('foobar', 3)).toBe((-790332482 & 0x7fffffff) % 3);
    expect(partitionForKey('abc', 10)).toBe(479470107 % 10);
  });

  it('for string keys, unicode included', () => {
    fc.assert(
      fc.property(keyArb, partitionCountArb, (key, n) => {
        const expected = kafkajsPartition(key, n);
        expect(partitionForKey(key, n)).toBe(expected);
        expect(partitionForKeyBytes(utf8(key), n)).toBe(expected);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('for Buffer and Uint8Array keys', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), partitionCountArb, (bytes, n) => {
        const expected = kafkajsPartition(Buffer.from(bytes), n);
        expect(partitionForKey(Buffer.from(bytes), n)).toBe(expected);
        expect(partitionForKey(bytes, n)).toBe(expected);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('hashes the empty key like KafkaJS', () => {
    for (const n of [1, 5, 16]) {
      expect(partitionForKey('', n)).toBe(kafkajsPartition('', n));
      expect(partitionForKey(new Uint8Array(0), n)).toBe(kafkajsPartition(Buffer.alloc(0), n));
    }
  });

  it('rejects keys that are not strings or bytes, and bad partition counts', () => {
    expect(() => partitionForKey(42 as unknown as string, 3)).toThrow(/key/);
    expect(() => partitionForKey('k', 0)).toThrow(/partitionCount/);
    expect(() => partitionForKey('k', 1.5)).toThrow(/partitionCount/);
  });
});
