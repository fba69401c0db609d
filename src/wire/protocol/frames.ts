import type { ApiCodec } from './api-codec.js';
import type { EncodeInput } from './encode-input.js';
import {
  ApiKey,
  type ApiCodecs,
  type ApiMessageTypes,
  type RequestHeader,
  type ResponseHeader,
  apis,
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
} from './messages/index.js';
import { ProtocolError } from './protocol-error.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * Kafka's framing: every request and response is an int32 size followed by that many bytes — a
 * header (request header v0-2, response header v0-1) and then the body of the API's message.
 * These functions are synchronous and stateless; the frames they return alias their input.
 */

/** ControlledShutdown v0, the one request with header v0; kafkalite does not serve it. */
const CONTROLLED_SHUTDOWN = 7;

/** The codec of an api key read off the wire, or undefined for one kafkalite does not serve. */
export function apiCodec(apiKey: number): ApiCodecs[ApiKey] | undefined {
  return Object.prototype.hasOwnProperty.call(apis, apiKey) ? apis[apiKey as ApiKey] : undefined;
}

/** True when kafkalite has codecs for this version of this API. */
export function isSupportedVersion(apiKey: number, apiVersion: number): boolean {
  const api = apiCodec(apiKey);
  return api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
}

/**
 * The request header version for an API version, as Kafka's `ApiMessageType.requestHeaderVersion`:
 * 2 in flexible versions, 1 otherwise (0 only for ControlledShutdown v0). An unknown api key gets 1,
 * which is enough to read its correlation id and answer it.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === CONTROLLED_SHUTDOWN && apiVersion === 0) return 0;
  const api = apiCodec(apiKey);
  return api !== undefined && apiVersion >= api.flexibleMin ? 2 : 1;
}

/**
 * The response header version, as Kafka's `ApiMessageType.responseHeaderVersion`: 1 in flexible
 * versions, 0 otherwise — and always 0 for ApiVersions, because a client reads that response
 * before it knows which versions the broker speaks.
 */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKey.ApiVersions) return 0;
  const api = apiCodec(apiKey);
  return api !== undefined && apiVersion >= api.flexibleMin ? 1 : 0;
}

/**
 * Size of the frame whose int32 size prefix starts at `offset`: -1 when fewer than 4 bytes are
 * there yet. A negative size or one above `maxFrameSize` (Kafka's socket.request.max.bytes,
 * 100 MiB by default) is a {@link ProtocolError}.
 */
export function readFrameSize(buf: Uint8Array, offset: number, maxFrameSize = 104_857_600): number {
  if (buf.length - offset < 4) return -1;
  const size = (buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!;
  if (size < 0 || size > maxFrameSize) {
    throw new ProtocolError(`frame size ${size} is outside 0..${maxFrameSize}`);
  }
  return size;
}

export interface RequestFrame {
  readonly header: RequestHeader;
  readonly headerVersion: number;
  /** Positioned at the first byte of the request body. */
  readonly body: Reader;
}

/**
 * Reads the header of one request frame (the bytes after the size prefix) and leaves a reader on
 * the body. Works for api keys and versions kafkalite does not serve, so that the listener can
 * still answer them (ApiVersions with UNSUPPORTED_VERSION, say).
 */
export function readRequestFrame(frame: Uint8Array): RequestFrame {
  if (frame.length < 4) throw new ProtocolError(`request frame of ${frame.length} bytes has no room for a header`);
  const apiKey = ((frame[0]! << 24) | (frame[1]! << 16)) >> 16;
  const apiVersion = ((frame[2]! << 24) | (frame[3]! << 16)) >> 16;
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const body = new Reader(frame);
  const header = decodeRequestHeader(body, headerVersion);
  return { header, headerVersion, body };
}

/** A decoded request; switching on `apiKey` narrows `request` to that API's type. */
export type DecodedRequest = {
  [K in ApiKey]: {
    readonly apiKey: K;
    readonly apiVersion: number;
    readonly correlationId: number;
    readonly clientId: string | null;
    readonly header: RequestHeader;
    readonly request: ApiMessageTypes[K]['request'];
  };
}[ApiKey];

/**
 * Decodes one whole request frame (the bytes after the size prefix). Throws {@link ProtocolError}
 * for an api key or version kafkalite does not serve, and for any malformed byte. Bytes left after
 * the body are ignored, as Kafka's broker ignores them.
 */
export function decodeRequestFrame(frame: Uint8Array): DecodedRequest {
  const { header, body } = readRequestFrame(frame);
  const apiKey = header.requestApiKey;
  const apiVersion = header.requestApiVersion;
  const api = apiCodec(apiKey);
  if (api === undefined) throw new ProtocolError(`api key ${apiKey} is not supported`);
  if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
    throw new ProtocolError(`${api.name} version ${apiVersion} is not supported (versions ${api.minVersion}-${api.maxVersion})`);
  }
  const request = (api as ApiCodec<unknown, unknown>).decodeRequest(body, apiVersion);
  return { apiKey, apiVersion, correlationId: header.correlationId, clientId: header.clientId, header, request } as DecodedRequest;
}

/**
 * Encodes one response frame — size, response header, body — into chunks for one `writev`.
 * On a failure the writer is left empty, ready for the next response.
 */
export function encodeResponseFrame<K extends ApiKey>(
  w: Writer,
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  response: EncodeInput<ApiMessageTypes[K]['response']>,
  headerTaggedFields?: EncodeInput<ResponseHeader>['unknownTaggedFields'],
): Uint8Array[] {
  w.beginFrame();
  try {
    encodeResponseHeader(w, responseHeaderVersion(apiKey, apiVersion), {
      correlationId,
      unknownTaggedFields: headerTaggedFields,
    });
    apis[apiKey].encodeResponse(w, apiVersion, response);
  } catch (err) {
    w.finish();
    throw err;
  }
  return w.finishFrame();
}

/** Encodes one request frame (the client side: tests, and a client over TCP later). */
export function encodeRequestFrame<K extends ApiKey>(
  w: Writer,
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  request: EncodeInput<ApiMessageTypes[K]['request']>,
): Uint8Array[] {
  w.beginFrame();
  try {
    encodeRequestHeader(w, requestHeaderVersion(apiKey, apiVersion), {
      requestApiKey: apiKey,
      requestApiVersion: apiVersion,
      correlationId,
      clientId,
    });
    apis[apiKey].encodeRequest(w, apiVersion, request);
  } catch (err) {
    w.finish();
    throw err;
  }
  return w.finishFrame();
}

export interface ResponseFrame {
  readonly header: ResponseHeader;
  /** Positioned at the first byte of the response body. */
  readonly body: Reader;
}

/** Reads the header of one response frame (after the size prefix) to the request it answers. */
export function readResponseFrame(frame: Uint8Array, apiKey: number, apiVersion: number): ResponseFrame {
  const body = new Reader(frame);
  const header = decodeResponseHeader(body, responseHeaderVersion(apiKey, apiVersion));
  return { header, body };
}

/** Decodes one whole response frame (after the size prefix) to a request of `apiKey`/`apiVersion`. */
export function decodeResponseFrame<K extends ApiKey>(
  frame: Uint8Array,
  apiKey: K,
  apiVersion: number,
): { readonly correlationId: number; readonly response: ApiMessageTypes[K]['response'] } {
  const { header, body } = readResponseFrame(frame, apiKey, apiVersion);
  const response = apis[apiKey].decodeResponse(body, apiVersion) as ApiMessageTypes[K]['response'];
  return { correlationId: header.correlationId, response };
}
