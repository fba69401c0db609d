import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Clock, ClockTimer } from '../clock.js';
import { closed, invalidArgument, networkError, requestTimedOut, show, unsupported, type KafkaliteError } from '../errors.js';
import { FrameReader } from '../wire/frame-reader.js';
import { KafkaErrorCode } from '../wire/kafka-errors.js';
import {
  ApiKey,
  Writer,
  apiCodec,
  apis,
  decodeResponseFrame,
  encodeRequestFrame,
  readResponseFrame,
  type ApiMessageTypes,
  type EncodeInput,
  type ProduceResponse,
} from '../wire/protocol/index.js';
import { ApiVersionTable } from './api-version-table.js';
import { resolveRemoteOptions, type RemoteOptions } from './remote-options.js';
import { saslLogin } from './sasl-login.js';

/** What {@link BrokerConnection.send} takes for an api key. */
export type RequestOf<K extends ApiKey> = EncodeInput<ApiMessageTypes[K]['request']>;

/** What {@link BrokerConnection.send} resolves with: the decoded response; `undefined` for a Produce with `acks: 0`, which Kafka never answers. */
export type ResponseOf<K extends ApiKey> = K extends typeof ApiKey.Produce ? ProduceResponse | undefined : ApiMessageTypes[K]['response'];

export interface BrokerConnectionOptions extends RemoteOptions {
  host: string;
  port: number;
}

export interface SendOptions {
  /** Send in this version instead of the newest both sides speak (`UNSUPPORTED` if either does not). */
  version?: number;
  /** Aborting rejects this call with `signal.reason`; the response, if it comes, is dropped. */
  signal?: AbortSignal;
}

/** A request sent and not yet answered. `settle` is cleared once the caller has its answer (or gave up): a late response is then dropped. */
interface InFlight {
  readonly correlationId: number;
  readonly apiKey: ApiKey;
  readonly version: number;
  settle: ((error: unknown, response?: unknown) => void) | undefined;
  timer: ClockTimer | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Kafka's rule for client software names (KIP-511); brokers refuse ApiVersions v3 with anything else. */
const SOFTWARE_NAME = 'kafkalite';
/** The package's version is not known at run time without reading package.json; Kafka's Java client sends this when it cannot tell either. */
const SOFTWARE_VERSION = 'unknown';
const API_VERSIONS_FIRST = 3;
/** Responses are as large as the broker makes them (Kafka's clients set no limit); the size prefix is an int32. */
const MAX_RESPONSE_BYTES = 2 ** 31 - 1;

/**
 * One connection to one Kafka broker, over TCP or TLS: opened with ApiVersions (and SASL when
 * asked), then requests encoded by the generated codecs, pipelined, their responses matched by
 * correlation id in the order Kafka guarantees. Each API goes out in the newest version both sides
 * speak unless the caller pins one.
 *
 * A request without its response after `requestTimeoutMs` (plus a Fetch's `maxWaitMs` or a
 * JoinGroup's rebalance timeout, which the broker may spend waiting) rejects with
 * `REQUEST_TIMED_OUT`, and the connection is closed with it, as Kafka's clients close it: responses
 * come in order, so nothing sent after it could be answered first — the line is stuck. A lost
 * connection rejects everything in flight with `NETWORK_ERROR` (retriable, `cause` the socket's
 * error); `close()` with `CLOSED`. Either way the connection is dead for good: open a new one.
 *
 * Concurrency: any number of `send`s may be in flight at once; they are written in call order.
 * `close` may be called at any time, more than once.
 */
export class BrokerConnection {
  /** `host:port` of the broker, for messages and logs. */
  readonly address: string;
  /** Resolves once the connection is dead (lost, timed out or closed); never rejects. */
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  readonly #writer = new Writer();
  readonly #reader = new FrameReader(MAX_RESPONSE_BYTES);
  readonly #inFlight: InFlight[] = [];
  readonly #clientId: string;
  readonly #requestTimeoutMs: number;
  readonly #clock: Clock;
  readonly #resolveClosed: () => void;
  #nextCorrelationId = 0;
  #versions: ApiVersionTable | undefined;
  #failure: KafkaliteError | undefined;

  private constructor(socket: Socket, address: string, clientId: string, requestTimeoutMs: number, clock: Clock) {
    this.#socket = socket;
    this.address = address;
    this.#clientId = clientId;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#clock = clock;
    let resolveClosed!: () => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    this.#resolveClosed = resolveClosed;
    let socketError: Error | undefined;
    socket.on('data', (chunk: Buffer) => {
      const bad = this.#reader.push(chunk, this.#onFrame);
      if (bad !== undefined) this.#fail(networkError(`the broker at ${address} sent a frame whose size prefix is wrong: ${bad}`));
    });
    socket.on('error', (error) => (socketError = error));
    socket.on('close', () => {
      const why = socketError === undefined ? 'the broker closed it' : socketError.message;
      this.#fail(networkError(`the connection to the broker at ${address} was lost: ${why}`, socketError));
    });
  }

  /**
   * Connects to one broker (`connectTimeoutMs` for TCP and TLS), then asks ApiVersions — v3
   * first, and when the broker answers UNSUPPORTED_VERSION, again in the newest version it names
   * for ApiVersions (v0 when it names none), as Kafka's clients do — and logs in with SASL when
   * `sasl` is given. Rejects with `INVALID_ARGUMENT` (bad options), `NETWORK_ERROR` (unreachable,
   * lost, timed out connecting), `REQUEST_TIMED_OUT`, `UNSUPPORTED` (no common ApiVersions, a SASL
   * mechanism the broker does not offer) or `AUTHENTICATION_FAILED`.
   */
  static async open(options: BrokerConnectionOptions): Promise<BrokerConnection> {
    const o = resolveRemoteOptions(options, 'connection', ['host', 'port']);
    const { host, port } = options;
    if (typeof host !== 'string' || host.length === 0) throw invalidArgument(`host must be a non-empty string (got ${show(host)})`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`port must be an integer from 1 to 65535 (got ${show(port)})`);
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const socket = await connectSocket(host, port, o.tls, o.connectTimeoutMs, o.clock, address);
    const connection = new BrokerConnection(socket, address, o.clientId, o.requestTimeoutMs, o.clock);
    try {
      connection.#versions = await connection.#negotiateVersions();
      if (o.sasl !== undefined) await saslLogin((k, r, v) => connection.#send(k, r, v, undefined), connection.#versions, o.sasl, address);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  /** True once the connection is dead; every `send` then rejects. */
  get isClosed(): boolean {
    return this.#failure !== undefined;
  }

  /** Requests sent and not yet answered (aborted ones included: they still hold their place in line). */
  get inFlight(): number {
    return this.#inFlight.length;
  }

  /** The version `send` uses for `apiKey`: the newest both sides speak; `UNSUPPORTED` naming the API when there is none. */
  version(apiKey: ApiKey): number {
    return this.#versions!.version(apiKey);
  }

  /** The broker's own [min, max] versions of an API, as its ApiVersions said; undefined when it does not offer it. */
  brokerVersions(apiKey: number): readonly [number, number] | undefined {
    return this.#versions!.brokerRange(apiKey);
  }

  /**
   * Sends one request and resolves with its decoded response (`undefined` for a Produce with
   * `acks: 0`, once written). Rejects with `UNSUPPORTED` (no common version), `INVALID_ARGUMENT`
   * (a request the codec cannot encode — the connection stays up), `REQUEST_TIMED_OUT`,
   * `NETWORK_ERROR`, `CLOSED`, or the signal's reason.
   */
  send<K extends ApiKey>(apiKey: K, request: RequestOf<K>, options: SendOptions = {}): Promise<ResponseOf<K>> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    let version: number;
    try {
      version = options.version === undefined ? this.#versions!.version(apiKey) : this.#versions!.check(apiKey, options.version);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#send(apiKey, request, version, options.signal) as Promise<ResponseOf<K>>;
  }

  /** Closes the connection: what is in flight rejects with `CLOSED`. Resolves at once when already dead. */
  close(): Promise<void> {
    this.#fail(closed(`the connection to the broker at ${this.address}`));
    return this.closed;
  }

  /** Typed as answered; only a Produce with acks=0 resolves undefined, which `send`'s {@link ResponseOf} says. */
  #send<K extends ApiKey>(apiKey: K, request: RequestOf<K>, version: number, signal: AbortSignal | undefined): Promise<ApiMessageTypes[K]['response']> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const correlationId = this.#nextCorrelationId;
    let frame: Uint8Array[];
    try {
      frame = encodeRequestFrame(this.#writer, apiKey, version, correlationId, this.#clientId, request);
    } catch (cause) {
      const name = apiCodec(apiKey)?.name ?? `api key ${apiKey}`;
      return Promise.reject(invalidArgument(`cannot encode a ${name} v${version} request: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }));
    }
    this.#nextCorrelationId = (correlationId + 1) & 0x7fffffff;
    const socket = this.#socket;
    socket.cork();
    for (let i = 0; i < frame.length - 1; i++) socket.write(frame[i]!);
    if (apiKey === ApiKey.Produce && ((request as RequestOf<typeof ApiKey.Produce>).acks ?? 0) === 0) {
      // acks=0: the broker never answers, so nothing waits in line; done once the bytes are out.
      const written = new Promise<undefined>((resolve, reject) => {
        socket.write(frame[frame.length - 1]!, (error) => (error == null ? resolve(undefined) : reject(this.#failure ?? networkError(`writing to ${this.address} failed: ${error.message}`, error))));
      });
      socket.uncork();
      return written as Promise<never>;
    }
    socket.write(frame[frame.length - 1]!);
    socket.uncork();
    return new Promise((resolve, reject) => {
      const entry: InFlight = { correlationId, apiKey, version, timer: undefined, signal, onAbort: undefined, settle: undefined };
      entry.settle = (error, response) => {
        entry.settle = undefined;
        this.#release(entry);
        if (error === undefined) resolve(response as ApiMessageTypes[K]['response']);
        else reject(error);
      };
      const timeoutMs = this.#requestTimeoutMs + extraWaitMs(apiKey, request);
      entry.timer = this.#clock.setTimeout(() => this.#timedOut(entry, timeoutMs), timeoutMs);
      if (signal !== undefined) {
        entry.onAbort = () => entry.settle?.(signal.reason);
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#inFlight.push(entry);
    });
  }

  /** ApiVersions, with KIP-511's fallback. */
  async #negotiateVersions(): Promise<ApiVersionTable> {
    const request = { clientSoftwareName: SOFTWARE_NAME, clientSoftwareVersion: SOFTWARE_VERSION };
    let response = await this.#send(ApiKey.ApiVersions, request, API_VERSIONS_FIRST, undefined);
    if (response.errorCode === KafkaErrorCode.UNSUPPORTED_VERSION) {
      const theirs = response.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions);
      const version = Math.max(0, Math.min(theirs?.maxVersion ?? 0, API_VERSIONS_FIRST - 1));
      response = await this.#send(ApiKey.ApiVersions, request, version, undefined);
    }
    if (response.errorCode !== KafkaErrorCode.NONE) {
      throw unsupported(`ApiVersions with the broker at ${this.address}`, `it answered error code ${response.errorCode}`);
    }
    return new ApiVersionTable(response.apiKeys, this.address);
  }

  /** One response frame, in order: it answers the oldest request in flight, or the broker is broken. */
  #onFrame = (frame: Uint8Array): boolean => {
    if (this.#failure !== undefined) return false;
    const head = this.#inFlight[0];
    const correlationId = frame.length >= 4 ? (frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]! : -1;
    if (head === undefined || correlationId !== head.correlationId) {
      const expected = head === undefined ? 'none was expected' : `expected ${head.correlationId}`;
      this.#fail(networkError(`the broker at ${this.address} sent a response with correlation id ${correlationId} (${expected})`));
      return false;
    }
    let response: unknown;
    if (head.settle !== undefined) {
      try {
        response = decodeResponse(frame, head.apiKey, head.version);
      } catch (cause) {
        const name = apiCodec(head.apiKey)?.name ?? `api key ${head.apiKey}`;
        this.#fail(networkError(`the broker at ${this.address} sent a malformed ${name} v${head.version} response: ${cause instanceof Error ? cause.message : String(cause)}`, cause));
        return false;
      }
    }
    this.#inFlight.shift();
    if (head.settle === undefined) this.#release(head);
    else head.settle(undefined, response);
    return true;
  };

  #timedOut(entry: InFlight, ms: number): void {
    entry.timer = undefined;
    if (entry.settle === undefined) return;
    const name = apiCodec(entry.apiKey)?.name ?? `api key ${entry.apiKey}`;
    const what = `${name} v${entry.version} (correlation id ${entry.correlationId})`;
    entry.settle(requestTimedOut(what, this.address, ms));
    this.#fail(networkError(`the connection to the broker at ${this.address} was closed because ${what} timed out after ${ms} ms (every response behind it waits for it)`));
  }

  /** Takes the entry's timer and abort listener down; the entry may stay in line (aborted). */
  #release(entry: InFlight): void {
    if (entry.timer !== undefined) this.#clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    if (entry.onAbort !== undefined) entry.signal!.removeEventListener('abort', entry.onAbort);
    entry.onAbort = undefined;
  }

  /** The connection is dead: everything in flight rejects with `error`, once. */
  #fail(error: KafkaliteError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#socket.destroy();
    for (const entry of this.#inFlight.splice(0)) {
      if (entry.settle === undefined) this.#release(entry);
      else entry.settle(error);
    }
    this.#resolveClosed();
  }
}

/**
 * Decodes a response. An ApiVersions answer of UNSUPPORTED_VERSION comes in v0's layout whatever
 * version was asked (KIP-511), so its error code — the first field of every version — is read first;
 * when even v0's layout does not fit, the answer is taken as the refusal alone.
 */
function decodeResponse(frame: Uint8Array, apiKey: ApiKey, version: number): unknown {
  if (apiKey === ApiKey.ApiVersions && version > 0) {
    const { body } = readResponseFrame(frame, apiKey, version);
    const at = body.offset;
    const errorCode = body.remaining >= 2 ? ((frame[at]! << 24) | (frame[at + 1]! << 16)) >> 16 : KafkaErrorCode.NONE;
    if (errorCode === KafkaErrorCode.UNSUPPORTED_VERSION) {
      try {
        return apis[ApiKey.ApiVersions].decodeResponse(body, 0);
      } catch {
        // librdkafka's mock broker (2.0) answers in neither layout: all that is sure is the
        // refusal, so ask again in v0, which every broker speaks.
        return { errorCode, apiKeys: [], throttleTimeMs: 0, unknownTaggedFields: [] };
      }
    }
  }
  return decodeResponseFrame(frame, apiKey, version).response;
}

/** How long the broker may hold a request before answering, on purpose: a Fetch's long poll, a JoinGroup's rebalance. */
function extraWaitMs(apiKey: ApiKey, request: unknown): number {
  if (apiKey === ApiKey.Fetch) return Math.max(0, (request as RequestOf<typeof ApiKey.Fetch>).maxWaitMs ?? 0);
  if (apiKey === ApiKey.JoinGroup) {
    const r = request as RequestOf<typeof ApiKey.JoinGroup>;
    return Math.max(0, r.rebalanceTimeoutMs ?? 0, r.sessionTimeoutMs ?? 0);
  }
  return 0;
}

/** A TCP (or TLS) connection, established within `timeoutMs`; `NETWORK_ERROR` otherwise. */
function connectSocket(host: string, port: number, tls: TlsConnectionOptions | undefined, timeoutMs: number, clock: Clock, address: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tls === undefined ? netConnect({ host, port }) : tlsConnect({ ...tls, host, port });
    let settled = false;
    const done = (error?: KafkaliteError): void => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      socket.off('error', onError);
      if (error === undefined) {
        // Kafka's clients turn Nagle off: requests are small and each waits for its answer.
        socket.setNoDelay(true);
        socket.setKeepAlive(true);
        resolve(socket);
      } else {
        // An error the socket still emits after giving up must not go unhandled.
        socket.on('error', () => undefined);
        socket.destroy();
        reject(error);
      }
    };
    const onError = (cause: Error): void => done(networkError(`cannot connect to the broker at ${address}: ${cause.message}`, cause));
    const timer = clock.setTimeout(() => done(networkError(`connecting to the broker at ${address} timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', onError);
    socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
      // Connecting again and again to a local port nobody listens on can meet itself (TCP's
      // simultaneous open): that is no broker, and it would hold the port a restarted one needs.
      if (socket.localPort === socket.remotePort && socket.localAddress === socket.remoteAddress) done(networkError(`cannot connect to the broker at ${address}: nothing listens there (the socket connected to itself)`));
      else done();
    });
  });
}
