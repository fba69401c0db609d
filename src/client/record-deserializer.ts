import { deserializationFailed, type KafkaliteError } from '../errors.js';
import type { Deserializer } from '../serde/serde.js';
import type { ConsumerRecord } from '../types.js';
import type { Chunk } from './fetcher.js';

/** A consumer's `deserializers`, as the consumer holds them (the types were checked at the call). */
export interface Deserializers {
  key?: Deserializer<unknown> | undefined;
  value?: Deserializer<unknown> | undefined;
}

/**
 * Deserializes fetched chunks before delivery: each chunk's records are replaced by typed copies.
 * A record whose key or value cannot be deserialized ends its chunk: the records before it stay,
 * and `failure` is its `DESERIALIZATION_FAILED` (topic, partition, offset, the deserializer's error
 * as `cause`) — the delivery loop hands out what came before, then raises it, and the position
 * stays on that record. Synchronous when every deserializer answers synchronously; async answers
 * are awaited together, and the earliest failing record wins.
 */
export function deserializeChunks(chunks: Chunk[], deserializers: Deserializers): Chunk[] | Promise<Chunk[]> {
  let pending: Promise<void>[] | undefined;
  for (let i = 0; i < chunks.length; i++) {
    const done = deserializeChunk(chunks[i]!, deserializers);
    if (done instanceof Promise) {
      (pending ??= []).push(
        done.then((chunk) => {
          chunks[i] = chunk;
        }),
      );
    } else {
      chunks[i] = done;
    }
  }
  return pending === undefined ? chunks : Promise.all(pending).then(() => chunks);
}

interface Pending {
  index: number;
  promise: Promise<unknown>;
}

function deserializeChunk(chunk: Chunk, deserializers: Deserializers): Chunk | Promise<Chunk> {
  const { key: keyDeserializer, value: valueDeserializer } = deserializers;
  const { records } = chunk;
  const out: ConsumerRecord<unknown, unknown>[] = new Array(records.length);
  let pending: Pending[] | undefined;
  let end = records.length;
  let failure: KafkaliteError | undefined;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const typed: ConsumerRecord<unknown, unknown> = {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
    };
    out[i] = typed;
    try {
      if (keyDeserializer !== undefined && r.key !== null) {
        const key = run(keyDeserializer, r, r.key, true);
        if (key instanceof Promise) (pending ??= []).push({ index: i, promise: key.then((k) => void (typed.key = k)) });
        else typed.key = key;
      }
      if (valueDeserializer !== undefined && r.value !== null) {
        const value = run(valueDeserializer, r, r.value, false);
        if (value instanceof Promise) (pending ??= []).push({ index: i, promise: value.then((v) => void (typed.value = v)) });
        else typed.value = value;
      }
    } catch (error) {
      end = i;
      failure = error as KafkaliteError;
      break;
    }
  }
  if (pending === undefined) return finish(chunk, out, end, failure);
  const waiting = pending;
  return Promise.allSettled(waiting.map((p) => p.promise)).then((settled) => {
    for (let j = 0; j < settled.length; j++) {
      const s = settled[j]!;
      if (s.status === 'rejected' && waiting[j]!.index < end) {
        end = waiting[j]!.index;
        failure = s.reason as KafkaliteError;
      }
    }
    return finish(chunk, out, end, failure);
  });
}

function finish(chunk: Chunk, out: ConsumerRecord<unknown, unknown>[], end: number, failure: KafkaliteError | undefined): Chunk {
  if (end < out.length) out.length = end;
  const records = out as ConsumerRecord[];
  return failure === undefined ? { ...chunk, records } : { ...chunk, records, failure };
}

/** One deserializer call: its value or a promise of it; every failure is `DESERIALIZATION_FAILED`. */
function run(deserializer: Deserializer<unknown>, r: ConsumerRecord, bytes: Buffer, isKey: boolean): unknown {
  const { topic, partition, offset } = r;
  let result: unknown;
  try {
    result = deserializer.deserialize(bytes, { topic, isKey, partition, offset });
  } catch (error) {
    throw deserializationFailed(topic, partition, offset, isKey, error);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw deserializationFailed(topic, partition, offset, isKey, error);
    });
  }
  return result;
}
