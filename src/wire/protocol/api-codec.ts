import type { EncodeInput } from './encode-input.js';
import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * The codecs and version range of one Kafka API, as the generated table `apis` lists them: what a
 * listener needs to dispatch a request by its api key and to answer ApiVersions.
 *
 * Concurrency: an immutable table entry; its functions are synchronous and stateless.
 */
export interface ApiCodec<Req, Res> {
  readonly apiKey: number;
  /** Kafka's name of the API: Produce, Fetch, ApiVersions … */
  readonly name: string;
  readonly minVersion: number;
  /** Highest version of the spec the codecs were generated from. */
  readonly maxVersion: number;
  /** Highest version Kafka considers stable (its spec marks some latest versions unstable). */
  readonly maxStableVersion: number;
  /** First flexible version (compact encodings, tagged fields, header v2/v1); Infinity if none. */
  readonly flexibleMin: number;
  decodeRequest(r: Reader, version: number): Req;
  encodeRequest(w: Writer, version: number, value: EncodeInput<Req>): void;
  decodeResponse(r: Reader, version: number): Res;
  encodeResponse(w: Writer, version: number, value: EncodeInput<Res>): void;
}
