import type { Serde } from './serde.js';

/**
 * JSON values as UTF-8 text, as KafkaJS users write them by hand (`JSON.stringify` /
 * `JSON.parse`). The type parameter is a promise of the application, not checked on read: a record
 * that is not JSON at all is `DESERIALIZATION_FAILED`; one that is JSON of another shape is not.
 */
export function json<T>(): Serde<T> {
  return {
    serialize(value) {
      const text = JSON.stringify(value);
      // JSON.stringify gives undefined for undefined, functions and symbols: no bytes to write.
      if (typeof text !== 'string') throw new TypeError(`JSON.stringify gave no text for a value of type ${typeof value}`);
      return text;
    },
    deserialize(bytes) {
      return JSON.parse(bytes.toString('utf8')) as T;
    },
  };
}
