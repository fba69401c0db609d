/**
 * Kafka's wire protocol: framing plus encoders and decoders generated from Apache Kafka's message
 * specs (see scripts/gen-protocol.ts). Everything here is synchronous and stateless except the
 * Writer and Reader cursors, which belong to one message at a time.
 */
export type { ApiCodec } from './api-codec.js';
export { EMPTY_BYTES } from './codec-support.js';
export type { EncodeInput } from './encode-input.js';
export {
  type DecodedRequest,
  type RequestFrame,
  type ResponseFrame,
  apiCodec,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  isSupportedVersion,
  readFrameSize,
  readRequestFrame,
  readResponseFrame,
  requestHeaderVersion,
  responseHeaderVersion,
} from './frames.js';
export * from './messages/index.js';
export { ProtocolError } from './protocol-error.js';
export { Reader } from './reader.js';
export type { RawTaggedField } from './tagged-fields.js';
export { ZERO_UUID, isUuid, uuidFromBytes, uuidToBytes } from './uuid.js';
export { Writer, ZERO_COPY_MIN, byteLength } from './writer.js';
