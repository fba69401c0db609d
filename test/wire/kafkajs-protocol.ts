/**
 * KafkaJS' own protocol encoders and decoders (kafkajs/src/protocol/requests/<api>/v<n>), used as an
 * oracle nobody here wrote: requests framed by KafkaJS are decoded with kafkalite's codecs, and
 * responses framed by kafkalite are decoded by KafkaJS. Test-only.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkaJsEncoder {
  readonly buffer: Buffer;
}

export interface KafkaJsRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  encode(): Promise<KafkaJsEncoder>;
}

interface KafkaJsResponse {
  decode(rawData: Buffer): Promise<unknown>;
}

type KafkaJsProtocol = (args: object) => { request: KafkaJsRequest; response: KafkaJsResponse };

const frameRequest = require('kafkajs/src/protocol/request') as (args: {
  correlationId: number;
  clientId: string;
  request: KafkaJsRequest;
}) => Promise<KafkaJsEncoder>;

function protocol(api: string, version: number): KafkaJsProtocol {
  const mod = require(`kafkajs/src/protocol/requests/${api}`) as {
    protocol(args: { version: number }): KafkaJsProtocol | undefined;
  };
  const p = mod.protocol({ version });
  if (!p) throw new Error(`KafkaJS has no ${api} v${version}`);
  return p;
}

/**
 * A whole request frame (size prefix, header v1 with `clientId`, body) as KafkaJS sends it, and the
 * api version KafkaJS put in it.
 */
export async function kafkajsRequestFrame(
  api: string,
  version: number,
  args: object,
  correlationId = 42,
  clientId = 'kafkajs-oracle',
): Promise<Buffer> {
  const { request } = protocol(api, version)(args);
  if (request.apiVersion !== version) throw new Error(`KafkaJS ${api} v${version} encodes v${request.apiVersion}`);
  return (await frameRequest({ correlationId, clientId, request })).buffer;
}

/** KafkaJS' decoding of a response body (the bytes after size prefix and correlation id). */
export function kafkajsDecodeResponse(api: string, version: number, body: Buffer, args: object = {}): Promise<unknown> {
  return protocol(api, version)(args).response.decode(body);
}
