/**
 * The shape of a serde: how typed keys and values become record bytes and back.
 *
 * A producer given `serializers` runs them on every message before partitioning (a key's bytes
 * pick its partition, as in Kafka); a consumer given `deserializers` runs them on every record
 * before it is delivered. `null` is never passed through a serde: a null key stays null and a
 * tombstone (`value: null`) stays null both ways, as Kafka's own serializers treat null.
 *
 * Either method may be synchronous or return a promise (a schema-registry lookup is async).
 * A serializer that throws rejects the `send` with `INVALID_ARGUMENT`; a deserializer that throws
 * is `DESERIALIZATION_FAILED` with topic, partition and offset.
 */
import type { MaybePromise } from '../storage/storage.js';

/** Where a key or value is going to, or coming from. */
export interface SerdeContext {
  readonly topic: string;
  /** Whether the bytes are the record's key (`true`) or its value. */
  readonly isKey: boolean;
  /** Known when deserializing; when serializing only if the message named one. */
  readonly partition?: number;
  /** Known when deserializing. */
  readonly offset?: number;
}

export interface Serializer<T> {
  serialize(value: T, context: SerdeContext): MaybePromise<Uint8Array | string>;
}

export interface Deserializer<T> {
  deserialize(bytes: Buffer, context: SerdeContext): MaybePromise<T>;
}

/** Both directions for one type: what `serde.json<T>()` and friends return. */
export interface Serde<T> extends Serializer<T>, Deserializer<T> {}
