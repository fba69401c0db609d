import type { MessageSpec } from '../../scripts/protocol-gen/spec-types.js';
import type { ApiCodec } from '../../src/wire/protocol/api-codec.js';
import {
  apis,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
} from '../../src/wire/protocol/messages/index.js';
import type { Reader } from '../../src/wire/protocol/reader.js';
import type { Writer } from '../../src/wire/protocol/writer.js';

/** The generated decode/encode pair of one message spec, untyped for table-driven tests. */
export interface AnyCodec {
  decode(r: Reader, version: number): unknown;
  encode(w: Writer, version: number, value: unknown): void;
}

export function codecOf(spec: MessageSpec): AnyCodec {
  if (spec.name === 'RequestHeader') {
    return { decode: decodeRequestHeader, encode: (w, v, value) => encodeRequestHeader(w, v, value as never) };
  }
  if (spec.name === 'ResponseHeader') {
    return { decode: decodeResponseHeader, encode: (w, v, value) => encodeResponseHeader(w, v, value as never) };
  }
  const api = (apis as unknown as Record<number, ApiCodec<unknown, unknown>>)[spec.apiKey!];
  if (!api) throw new Error(`no codec for ${spec.name}`);
  return spec.type === 'request'
    ? { decode: (r, v) => api.decodeRequest(r, v), encode: (w, v, value) => api.encodeRequest(w, v, value as never) }
    : { decode: (r, v) => api.decodeResponse(r, v), encode: (w, v, value) => api.encodeResponse(w, v, value as never) };
}
