import type { RawTaggedField } from './tagged-fields.js';

/**
 * What an encoder accepts for a decoded message type `T`: every field may be left out (it is then
 * written as its spec default, as Kafka's generated Java classes start from defaults), arrays may
 * be readonly, and every bytes/records field may be a list of chunks written back to back without
 * being joined first — the way a Fetch response hands stored batches to the socket.
 */
export type EncodeInput<T> = T extends Uint8Array
  ? Uint8Array | readonly Uint8Array[]
  : T extends string | number | boolean | bigint | null | undefined
    ? T
    : T extends RawTaggedField
      ? T
      : T extends readonly (infer E)[]
        ? readonly EncodeInput<E>[]
        : { readonly [K in keyof T]?: EncodeInput<T[K]> };
