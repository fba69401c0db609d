import type { Serde } from './serde.js';

/**
 * Bytes as they are: what a producer and consumer without serdes do, spelled out (to type one
 * side of a record while the other stays bytes, or to refuse strings where bytes are meant).
 */
export function buffer(): Serde<Buffer> {
  return {
    serialize(value) {
      if (!(value instanceof Uint8Array)) throw new TypeError(`serde.buffer() takes a Buffer or Uint8Array (got a ${typeof value})`);
      return value;
    },
    deserialize(bytes) {
      return bytes;
    },
  };
}
