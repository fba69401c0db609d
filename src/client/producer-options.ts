import { COMPRESSION_CODECS, type CompressionCodec } from '../codec/compression.js';
import { invalidArgument, show } from '../errors.js';
import type { Serializer } from '../serde/serde.js';
import type { Message } from '../types.js';
import type { Serializers } from './message-serializer.js';
import { checkSerdes } from './serde-options.js';

/** Picks a partition for a message that names none; the key, if any, is in `message.key`. */
export type PartitionerFunction = (args: { topic: string; partitionCount: number; message: Message }) => number;

/** `K` and `V`: what `send` takes as keys and values — the serializers' types, else bytes or strings. */
export interface ProducerOptions<K = string | Uint8Array, V = string | Uint8Array> {
  /**
   * How messages without an explicit partition are spread. Keyed messages always go to
   * `(murmur2(key) & 0x7fffffff) % partitionCount` under `'sticky'` and `'round-robin'`:
   * - `'sticky'`: keyless messages fill one partition's batch, then move to the next (Kafka's
   *   default since 2.4, KIP-480).
   * - `'round-robin'`: keyless messages rotate over the partitions one by one.
   * - a function: called for every message without an explicit partition, keyed or not.
   * @default 'sticky'
   */
  partitioner?: 'sticky' | 'round-robin' | PartitionerFunction;
  /**
   * How long a batch may wait for more messages before it is appended. 0 appends at the end of
   * the current tick, so messages sent in one synchronous run still share a batch.
   * @default 0
   */
  lingerMs?: number;
  /** Bytes at which a partition's batch is closed and appended without waiting for `lingerMs`. @default 16384 */
  batchSize?: number;
  /**
   * Kafka's idempotent producer: the producer gets an id and epoch from the broker and numbers
   * each partition's batches; a request that fails with a retriable error is sent again with the
   * same bytes, and the partition appends a batch it already holds only once (it answers with
   * the first append's offset). One produce request is in flight at a time.
   * @default false
   */
  idempotent?: boolean;
  /**
   * Turn keys and values into bytes at `send`, before partitioning (the key's bytes pick the
   * partition). Either may be left out: that side stays bytes or strings. `null` keys and
   * tombstones are never passed to a serializer. One that throws or rejects refuses the whole
   * call with `INVALID_ARGUMENT`.
   * @default undefined (no serializers)
   */
  serializers?: { key?: Serializer<K>; value?: Serializer<V> };
  /**
   * Kafka's `compression.type`: each record batch's records are compressed with this codec, and
   * stored and served so (consumers decode every codec). `'snappy'`, `'lz4'` and `'zstd'` need
   * optional packages (see docs/schemas.md); a missing one rejects the send with `UNSUPPORTED`
   * naming it. Idempotent and transactional producers compress too, as Kafka's do: each batch is
   * compressed once, its producer id, epoch and base sequence go into the (plain) header when it
   * is sent, and a retry sends the same bytes.
   * @default 'none'
   */
  compression?: CompressionCodec;
  /**
   * Kafka's `transactional.id`: the producer sends only inside {@link Producer.transaction}s,
   * which commit or abort atomically across partitions (and group offsets, with `sendOffsets`).
   * A newer producer with the same id fences this one (`PRODUCER_FENCED`). Implies `idempotent`.
   */
  transactionalId?: string;
  /** How long a transaction may stay open before the broker aborts it (Kafka's `transaction.timeout.ms`). @default 60000 */
  transactionTimeoutMs?: number;
}

export type ResolvedProducerOptions = Required<Omit<ProducerOptions, 'serializers' | 'transactionalId'>> & {
  serializers: Serializers | undefined;
  transactionalId: string | undefined;
};

export const defaultProducerOptions: ResolvedProducerOptions = {
  partitioner: 'sticky',
  lingerMs: 0,
  batchSize: 16_384,
  idempotent: false,
  serializers: undefined,
  compression: 'none',
  transactionalId: undefined,
  transactionTimeoutMs: 60_000,
};

export function resolveProducerOptions(options: ProducerOptions<unknown, unknown> | undefined): ResolvedProducerOptions {
  const o = { ...defaultProducerOptions };
  if (options !== undefined) {
    if (options === null || typeof options !== 'object') throw invalidArgument(`producer options must be an object (got ${show(options)})`);
    for (const [key, value] of Object.entries(options)) {
      if (!(key in o)) throw invalidArgument(`unknown producer option ${show(key)}`);
      if (value !== undefined) (o as Record<string, unknown>)[key] = value;
    }
  }
  const { partitioner, lingerMs, batchSize, idempotent } = o;
  if (partitioner !== 'sticky' && partitioner !== 'round-robin' && typeof partitioner !== 'function') {
    throw invalidArgument(`partitioner must be 'sticky', 'round-robin' or a function (got ${show(partitioner)})`);
  }
  if (!Number.isSafeInteger(lingerMs) || lingerMs < 0) throw invalidArgument(`lingerMs must be an integer >= 0 (got ${show(lingerMs)})`);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw invalidArgument(`batchSize must be a positive integer (got ${show(batchSize)})`);
  if (typeof idempotent !== 'boolean') throw invalidArgument(`idempotent must be a boolean (got ${show(idempotent)})`);
  if (!COMPRESSION_CODECS.includes(o.compression)) {
    throw invalidArgument(`compression must be 'none', 'gzip', 'snappy', 'lz4' or 'zstd' (got ${show(o.compression)})`);
  }
  o.serializers = checkSerdes(o.serializers, 'serializers', 'serialize');
  if (o.transactionalId !== undefined && (typeof o.transactionalId !== 'string' || o.transactionalId.length === 0)) {
    throw invalidArgument(`transactionalId must be a non-empty string (got ${show(o.transactionalId)})`);
  }
  if (!Number.isSafeInteger(o.transactionTimeoutMs) || o.transactionTimeoutMs < 1) {
    throw invalidArgument(`transactionTimeoutMs must be a positive integer (got ${show(o.transactionTimeoutMs)})`);
  }
  return o;
}
