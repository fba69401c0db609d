/**
 * A bare Kafka wire client for the listener's tests: sends request frames encoded by the
 * generated codecs and decodes the responses, in order. It checks nothing itself, so a test can
 * send what a real client never would.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import {
  Writer,
  decodeResponseFrame,
  encodeRequestFrame,
  type ApiKey,
  type ApiMessageTypes,
  type EncodeInput,
} from '../../src/wire/protocol/index.js';
import { FrameReader } from '../../src/wire/frame-reader.js';

interface Pending {
  apiKey: ApiKey;
  version: number;
  correlationId: number;
  raw: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class WireClient {
  readonly #socket: Socket;
  readonly #writer = new Writer();
  readonly #reader = new FrameReader(2 ** 31 - 1);
  readonly #pending: Pending[] = [];
  #correlationId = 0;
  /** Resolves when the server closes the connection (or it fails). */
  readonly closed: Promise<void>;
  #isClosed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#reader.push(chunk, (frame) => {
        const p = this.#pending.shift();
        if (p === undefined) throw new Error('a response frame nobody asked for');
        if (p.raw) p.resolve(frame);
        else {
          const { correlationId, response } = decodeResponseFrame(frame, p.apiKey, p.version);
          if (correlationId !== p.correlationId) p.reject(new Error(`correlation id ${correlationId}, expected ${p.correlationId}`));
          else p.resolve(response);
        }
        return true;
      });
    });
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.#isClosed = true;
        for (const p of this.#pending.splice(0)) p.reject(new Error('connection closed'));
        resolve();
      };
      socket.once('close', done);
      socket.on('error', () => undefined);
    });
  }

  static connect(address: string, tls?: ConnectionOptions): Promise<WireClient> {
    const [host, port] = splitAddress(address);
    return new Promise((resolve, reject) => {
      const socket = tls === undefined ? tcpConnect({ host, port }) : tlsConnect({ host, port, ...tls });
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => resolve(new WireClient(socket)));
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Sends one request and resolves with its decoded response. */
  request<K extends ApiKey>(apiKey: K, version: number, body: EncodeInput<ApiMessageTypes[K]['request']>, clientId: string | null = 'wire-test'): Promise<ApiMessageTypes[K]['response']> {
    const correlationId = ++this.#correlationId;
    const frame = encodeRequestFrame(this.#writer, apiKey, version, correlationId, clientId, body);
    const answer = new Promise<ApiMessageTypes[K]['response']>((resolve, reject) => {
      this.#pending.push({ apiKey, version, correlationId, raw: false, resolve: resolve as (v: unknown) => void, reject });
    });
    for (const chunk of frame) this.#socket.write(chunk);
    return answer;
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  send<K extends ApiKey>(apiKey: K, version: number, body: EncodeInput<ApiMessageTypes[K]['request']>): void {
    const frame = encodeRequestFrame(this.#writer, apiKey, version, ++this.#correlationId, 'wire-test', body);
    for (const chunk of frame) this.#socket.write(chunk);
  }

  /** Writes bytes as they are (a malformed frame, a bare SASL token with its size). */
  writeRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  /** Writes a size-prefixed frame and resolves with the next frame the server sends back, undecoded. */
  rawExchange(payload: Uint8Array): Promise<Uint8Array> {
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.push({ apiKey: 0 as ApiKey, version: 0, correlationId: 0, raw: true, resolve: resolve as (v: unknown) => void, reject });
    });
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    this.#socket.write(Buffer.concat([size, payload]));
    return answer;
  }

  close(): void {
    this.#socket.destroy();
  }
}

export function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))];
}
