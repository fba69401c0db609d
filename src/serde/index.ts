import { avro } from './avro.js';
import { buffer } from './buffer.js';
import { json } from './json.js';
import { string } from './string.js';

export type { Deserializer, Serde, SerdeContext, Serializer } from './serde.js';

/**
 * The ready-made serdes: `serde.json<T>()`, `serde.string()`, `serde.buffer()`, and
 * `serde.avro({ registry, subject })` (Confluent's framing, through a {@link SchemaRegistry}).
 */
export const serde = { json, string, buffer, avro };
