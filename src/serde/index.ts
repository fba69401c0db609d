import { buffer } from './buffer.js';
import { json } from './json.js';
import { string } from './string.js';

export type { Deserializer, Serde, SerdeContext, Serializer } from './serde.js';

/** The ready-made serdes: `serde.json<T>()`, `serde.string()`, `serde.buffer()`. */
export const serde = { json, string, buffer };
