/**
 * KafkaJS' partitioners. Both pick `message.partition` when given, else hash the key, else
 * rotate over the partitions from a random start, per topic:
 * - `DefaultPartitioner` (KafkaJS 2.x' default; `JavaCompatiblePartitioner` is its old name)
 *   hashes with Kafka's murmur2, as the Java client: the partition kafkalite's own producer picks.
 * - `LegacyPartitioner` (KafkaJS 1.x' default) hashes with KafkaJS 1.x' murmur2, which computes
 *   in floating point and so spreads keys differently.
 */

import { randomBytes } from 'node:crypto';
import { partitionForKey } from '../index.js';
import type { ICustomPartitioner, PartitionerArgs } from './types.js';

const toPositive = (x: number): number => x & 0x7fffffff;

/** A key as bytes, the way KafkaJS hashes it: a Buffer as is, anything else as `String(key)`. */
function keyBytes(key: unknown): Buffer {
  return Buffer.isBuffer(key) ? key : Buffer.from(String(key));
}

function createPartitioner(hash: (key: Buffer, partitionCount: number) => number): ICustomPartitioner {
  return () => {
    const counters = new Map<string, number>();
    return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
      let counter = counters.get(topic);
      if (counter === undefined) counters.set(topic, (counter = randomBytes(4).readUInt32BE(0)));
      if (message.partition !== null && message.partition !== undefined) return message.partition;
      const count = partitionMetadata.length;
      if (message.key !== null && message.key !== undefined) return hash(keyBytes(message.key), count);
      counter++;
      counters.set(topic, counter);
      const available = partitionMetadata.filter((p) => p.leader >= 0);
      if (available.length > 0) return available[toPositive(counter) % available.length]!.partitionId;
      return toPositive(counter) % count;
    };
  };
}

/** Kafka's (Java client's) choice for a key: `toPositive(murmur2(key)) % n`. */
export const DefaultPartitioner: ICustomPartitioner = createPartitioner((key, n) => partitionForKey(key, n));

/** KafkaJS 1.x' choice for a key: its floating-point murmur2, then `toPositive(h) % n`. */
export const LegacyPartitioner: ICustomPartitioner = createPartitioner((key, n) => toPositive(legacyMurmur2(key)) % n);

export const Partitioners: {
  DefaultPartitioner: ICustomPartitioner;
  LegacyPartitioner: ICustomPartitioner;
  /** @deprecated Use DefaultPartitioner instead: the JavaCompatiblePartitioner was renamed DefaultPartitioner in KafkaJS 2.0.0. */
  JavaCompatiblePartitioner: ICustomPartitioner;
} = { DefaultPartitioner, LegacyPartitioner, JavaCompatiblePartitioner: DefaultPartitioner };

/** Whether a `createPartitioner` gives the partition kafkalite's producer already picks. */
export function isDefaultPartitioner(createPartitioner: ICustomPartitioner | undefined): boolean {
  return createPartitioner === undefined || createPartitioner === DefaultPartitioner;
}

/**
 * murmur2 as KafkaJS 1.x computed it: Kafka 0.10.2's algorithm, but with the multiplications in
 * double precision (so products above 2^53 lose bits before the 32-bit operations), and with
 * the block loop running while `i < length / 4`, so a trailing partial block is mixed in as if
 * zero-padded before the tail bytes are mixed again. The result is what KafkaJS' partitioner
 * hashed; it differs from Kafka's murmur2 for most keys.
 */
export function legacyMurmur2(data: Buffer): number {
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  const length = data.length;
  const byte = (i: number): number => (data[i] ?? 0) & 0xff;

  let h = seed ^ length;
  for (let i = 0; i < length / 4; i++) {
    const at = i * 4;
    let k = byte(at) + (byte(at + 1) << 8) + (byte(at + 2) << 16) + (byte(at + 3) << 24);
    k *= m;
    k ^= k >>> r;
    k *= m;
    h *= m;
    h ^= k;
  }

  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= byte(tail + 2) << 16;
  if (rest >= 2) h ^= byte(tail + 1) << 8;
  if (rest >= 1) {
    h ^= byte(tail);
    h *= m;
  }

  h ^= h >>> 13;
  h *= m;
  h ^= h >>> 15;
  return h;
}
