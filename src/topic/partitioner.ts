import { murmur2, toPositive } from '../codec/murmur2.js';
import { invalidArgument, show } from '../errors.js';

const encoder = new TextEncoder();

/**
 * The partition Kafka's default partitioner (Java client and KafkaJS' `DefaultPartitioner`) picks
 * for a key: `(murmur2(keyBytes) & 0x7fffffff) % partitionCount`. A string key is hashed as its
 * UTF-8 bytes.
 */
export function partitionForKey(key: string | Uint8Array, partitionCount: number): number {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    throw invalidArgument(`a key is a string or a Uint8Array (got ${show(key)})`);
  }
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw invalidArgument(`partitionCount must be a positive integer (got ${show(partitionCount)})`);
  }
  return toPositive(murmur2(typeof key === 'string' ? encoder.encode(key) : key)) % partitionCount;
}

/** Hash of already-encoded key bytes, for callers that validated their input. */
export function partitionForKeyBytes(keyBytes: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(keyBytes)) % partitionCount;
}
