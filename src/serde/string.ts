import type { Serde } from './serde.js';

/** Strings as UTF-8, Kafka's `StringSerializer`/`StringDeserializer`. */
export function string(): Serde<string> {
  return {
    serialize(value) {
      if (typeof value !== 'string') throw new TypeError(`serde.string() takes strings (got a ${typeof value})`);
      return value;
    },
    deserialize(bytes) {
      return bytes.toString('utf8');
    },
  };
}
