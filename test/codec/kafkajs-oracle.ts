/**
 * KafkaJS internals used as a test oracle for the codec: its CRC-32C, its murmur2 and
 * DefaultPartitioner, and its RecordBatch v2 encoder and decoder. Test-only; nothing here is
 * copied into src/.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// CRC-32C and murmur2

/** `kafkajs/src/protocol/recordBatch/crc32C`: the unsigned CRC-32C of a whole Buffer. */
export const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;

/** `kafkajs/src/producer/partitioners/default/murmur2`: Buffer, or anything `String()`-able. */
export const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: Buffer | string,
) => number;

interface PartitionMetadata {
  partitionId: number;
  leader: number;
}

type Partitioner = (args: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: { key?: Buffer | string | null; partition?: number | null };
}) => number;

const { DefaultPartitioner } = require('kafkajs/src/producer/partitioners') as {
  DefaultPartitioner: () => Partitioner;
};

const partitioner = DefaultPartitioner();
const metadataCache = new Map<number, PartitionMetadata[]>();

/** The partition KafkaJS' DefaultPartitioner picks for `key` in a topic of `partitionCount`. */
export function kafkajsPartition(key: Buffer | string, partitionCount: number): number {
  let partitionMetadata = metadataCache.get(partitionCount);
  if (partitionMetadata === undefined) {
    partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0 }));
    metadataCache.set(partitionCount, partitionMetadata);
  }
  return partitioner({ topic: 'oracle', partitionMetadata, message: { key } });
}

// ---------------------------------------------------------------------------------------------
// RecordBatch v2

interface KafkaJsDecoder {
  offset: number;
  buffer: Buffer;
}

interface KafkaJsEncoder {
  readonly buffer: Buffer;
}

const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => KafkaJsDecoder;

/** One record as KafkaJS' RecordBatch decoder returns it (64-bit numbers as decimal strings). */
export interface KafkaJsRecord {
  magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord: boolean;
}

/** A batch as KafkaJS' RecordBatch decoder returns it. */
export interface KafkaJsBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: KafkaJsRecord[];
}

const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: KafkaJsDecoder,
) => Promise<KafkaJsBatch>;

/** Decodes the RecordBatch at the start of `bytes` with KafkaJS. */
export function kafkajsDecodeBatch(bytes: Uint8Array): Promise<KafkaJsBatch> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeBatch(new Decoder(buffer));
}

type Long = object;
const Long = require('kafkajs/src/utils/long') as { fromValue(value: number | string | bigint): Long };

interface KafkaJsRecordInput {
  offsetDelta: number;
  timestampDelta: Long;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
}

const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  record: KafkaJsRecordInput,
) => KafkaJsEncoder;

const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: {
    /** KafkaJS' CompressionTypes: the codec must be registered in its CompressionCodecs. */
    compression?: number;
    firstOffset?: Long;
    firstTimestamp: Long;
    maxTimestamp: Long;
    lastOffsetDelta: number;
    producerId?: Long;
    producerEpoch?: number;
    firstSequence?: number;
    records: KafkaJsEncoder[];
  }) => Promise<KafkaJsEncoder>;
};

export interface OracleRecordInput {
  timestamp: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
}

/**
 * Encodes `records` as one RecordBatch v2 with KafkaJS, the way its Produce request does: offset
 * deltas 0.., timestamp deltas from the first record's timestamp; compressed with KafkaJS' codec
 * `compression` (0: none; see kafkajs-codecs.ts for registering the others).
 */
export async function kafkajsEncodeBatch(records: OracleRecordInput[], firstOffset = 0, compression = 0): Promise<Buffer> {
  const first = records[0];
  if (first === undefined) throw new RangeError('a batch needs a record');
  const maxTimestamp = Math.max(...records.map((r) => r.timestamp));
  const encoded = records.map((r, i) =>
    encodeRecord({
      offsetDelta: i,
      timestampDelta: Long.fromValue(r.timestamp - first.timestamp),
      key: r.key,
      value: r.value,
      ...(r.headers === undefined ? {} : { headers: r.headers }),
    }),
  );
  const batch = await RecordBatch({
    compression,
    firstOffset: Long.fromValue(firstOffset),
    firstTimestamp: Long.fromValue(first.timestamp),
    maxTimestamp: Long.fromValue(maxTimestamp),
    lastOffsetDelta: records.length - 1,
    producerId: Long.fromValue(-1),
    producerEpoch: -1,
    firstSequence: -1,
    records: encoded,
  });
  return batch.buffer;
}
