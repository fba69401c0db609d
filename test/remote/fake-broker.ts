/**
 * A scripted Kafka broker on a loopback port for what a real listener never does: answer
 * ApiVersions with UNSUPPORTED_VERSION, offer odd version ranges, hold a response back or never
 * answer. Each request goes to the test's handler, which replies (now or later) or does not.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { FrameReader } from '../../src/wire/frame-reader.js';
import { ApiKey, Writer, apiCodec, apis, encodeResponseFrame, readRequestFrame, type ApiCodec, type ApiVersionsResponseApiVersion } from '../../src/wire/protocol/index.js';

export interface FakeRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** The decoded body (undefined for a version kafkalite has no codec for). */
  readonly request: unknown;
  /** Writes the response, encoded in `version` (default: the request's). */
  reply(response: object, version?: number): void;
  /** Writes raw bytes on the connection (a broken frame). */
  writeRaw(bytes: Uint8Array): void;
}

export interface FakeBroker {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  /** Every request received, in order. */
  readonly received: FakeRequest[];
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Every API kafkalite has codecs for, with its whole stable version range. */
export const ALL_APIS: ApiVersionsResponseApiVersion[] = Object.values(apis).map((a) => ({
  apiKey: a.apiKey,
  minVersion: a.minVersion,
  maxVersion: a.maxStableVersion,
  unknownTaggedFields: [],
}));

/** The usual answer to ApiVersions, advertising `apiKeys`. */
export function answerApiVersions(req: FakeRequest, apiKeys: readonly ApiVersionsResponseApiVersion[] = ALL_APIS): void {
  req.reply({ errorCode: 0, apiKeys, throttleTimeMs: 0 });
}

const open: FakeBroker[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});

/** Starts a fake broker; `handler` sees every request (ApiVersions too) and is closed after the test. */
export async function fakeBroker(handler: (req: FakeRequest) => void): Promise<FakeBroker> {
  const sockets = new Set<Socket>();
  const received: FakeRequest[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const reader = new FrameReader(1 << 20);
    const writer = new Writer();
    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk, (frame) => {
        const { header, body } = readRequestFrame(frame);
        const { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId } = header;
        const api = apiCodec(apiKey);
        const known = api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
        const request = known ? (api as ApiCodec<unknown, unknown>).decodeRequest(body, apiVersion) : undefined;
        const req: FakeRequest = {
          apiKey,
          apiVersion,
          correlationId,
          request,
          reply(response, version = apiVersion) {
            for (const c of encodeResponseFrame(writer, apiKey as ApiKey, version, correlationId, response)) socket.write(c);
          },
          writeRaw: (bytes) => socket.write(bytes),
        };
        received.push(req);
        handler(req);
        return true;
      });
    });
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const port = (server.address() as AddressInfo).port;
  const broker: FakeBroker = {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  open.push(broker);
  return broker;
}

/** A handler that answers ApiVersions with every API and leaves the rest to `rest`. */
export function withApiVersions(rest: (req: FakeRequest) => void = () => undefined): (req: FakeRequest) => void {
  return (req) => (req.apiKey === ApiKey.ApiVersions ? answerApiVersions(req) : rest(req));
}
