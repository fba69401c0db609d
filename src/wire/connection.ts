import type { Socket } from 'node:net';
import { describeError } from '../logger.js';
import { CloseConnection, Farewell, NO_RESPONSE, type Session } from './api-handler.js';
import { dispatch, type DispatchedRequest, type Lane } from './dispatcher.js';
import { FrameReader } from './frame-reader.js';
import { encodeResponseFrame, type Writer } from './protocol/index.js';
import type { SaslAuthenticator } from './sasl-authenticator.js';
import type { WireContext } from './wire-context.js';

/** Requests started or waiting on one connection at most before it stops reading. */
const MAX_PENDING_REQUESTS = 32;
/** Request bytes held by started or waiting requests at most before the connection stops reading. */
const MAX_PENDING_REQUEST_BYTES = 64 * 1024 * 1024;
/** Response bytes waiting to be sent at most before the connection stops reading. */
const MAX_PENDING_RESPONSE_BYTES = 16 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

/** One response in the connection's in-order queue: filled when its request is done. */
interface Slot {
  chunks: Uint8Array[] | undefined;
  bytes: number;
  requestBytes: number;
  /** Close the connection once this response is written (a failed SASL authentication). */
  farewell: boolean;
}

interface Waiting {
  request: DispatchedRequest;
  slot: Slot;
}

/**
 * One client connection: splits the byte stream into frames, dispatches each request, and
 * answers in request order (Kafka's guarantee) although requests run concurrently — a Fetch
 * long-polls while the requests behind it run, and their responses wait in the queue until the
 * Fetch is answered. Requests start in arrival order under the rules of their {@link Lane}.
 *
 * Backpressure: the connection stops reading its socket while too many requests are pending, or
 * too many response bytes wait to be written, and reads on once they drain.
 *
 * Concurrency: driven by its socket's events on the event loop; every request it starts runs
 * concurrently with the others, and `close` may come at any time (pending responses are dropped,
 * long polls are woken through the session's signal).
 */
export class Connection {
  readonly #socket: Socket;
  readonly #ctx: WireContext;
  readonly #writer: Writer;
  readonly #reader: FrameReader;
  readonly #abort = new AbortController();
  readonly #session: Session;
  readonly #onClose: (connection: Connection) => void;
  readonly #waiting: Waiting[] = [];
  readonly #slots: Slot[] = [];
  readonly #running: Record<Lane, number> = { read: 0, append: 0, exclusive: 0 };
  #pendingRequests = 0;
  #requestBytes = 0;
  #responseBytes = 0;
  #paused = false;
  #pumping = false;
  #closed = false;

  constructor(socket: Socket, ctx: WireContext, writer: Writer, auth: SaslAuthenticator | undefined, onClose: (connection: Connection) => void) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.#writer = writer;
    this.#reader = new FrameReader(ctx.listen.maxRequestBytes);
    this.#session = { signal: this.#abort.signal, clientHost: `/${socket.remoteAddress ?? 'unknown'}`, auth };
    this.#onClose = onClose;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('drain', () => this.#maybeResume());
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Drops the connection: pending requests finish unanswered, long polls end at once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#socket.destroy();
    this.#waiting.length = 0;
    this.#slots.length = 0;
    this.#onClose(this);
  }

  #read(chunk: Uint8Array): void {
    if (this.#closed) return;
    const problem = this.#reader.push(chunk, (frame) => this.#frame(frame));
    if (problem !== undefined) this.close();
  }

  /** One whole frame: a request, or a bare SASL token after a v0 handshake. Returns whether to go on reading. */
  #frame(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    const auth = this.#session.auth;
    if (auth?.expectsRawToken === true) {
      const step = auth.step(frame);
      if (!step.ok) {
        this.close();
        return false;
      }
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(step.reply.length);
      this.#slots.push({ chunks: [size, step.reply], bytes: 4 + step.reply.length, requestBytes: 0, farewell: false });
      this.#responseBytes += 4 + step.reply.length;
      this.#flush();
      return !this.#paused;
    }
    const request = dispatch(this.#ctx, frame, this.#session);
    if (request.kind === 'close') {
      this.close();
      return false;
    }
    const slot: Slot = { chunks: undefined, bytes: 0, requestBytes: frame.length, farewell: false };
    this.#slots.push(slot);
    this.#waiting.push({ request, slot });
    this.#pendingRequests++;
    this.#requestBytes += frame.length;
    this.#pump();
    this.#checkPressure();
    return !this.#paused && !this.#closed;
  }

  /** Starts waiting requests, in order, as their lanes allow. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#waiting.length > 0 && !this.#closed) {
        const { request, slot } = this.#waiting[0]!;
        const running = this.#running;
        const free = request.lane === 'exclusive' ? running.exclusive === 0 && running.append === 0 : running.exclusive === 0;
        if (!free) break;
        this.#waiting.shift();
        this.#start(request, slot);
      }
    } finally {
      this.#pumping = false;
    }
  }

  #start(request: DispatchedRequest, slot: Slot): void {
    this.#running[request.lane]++;
    let result: unknown;
    try {
      result = request.run();
    } catch (error) {
      this.#done(request, slot, undefined, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value) => this.#done(request, slot, value, undefined),
        (error) => this.#done(request, slot, undefined, error ?? new Error('rejected')),
      );
    } else {
      this.#done(request, slot, result, undefined);
    }
  }

  #done(request: DispatchedRequest, slot: Slot, result: unknown, error: unknown): void {
    this.#running[request.lane]--;
    this.#pendingRequests--;
    this.#requestBytes -= slot.requestBytes;
    if (this.#closed) return;
    if (error !== undefined) {
      if (!(error instanceof CloseConnection)) {
        this.#ctx.log.error(`wire ${describeError(error)}`, `kafkalite listener: a request (api key ${request.apiKey}) failed unexpectedly; closing its connection`, { error });
      }
      this.close();
      return;
    }
    try {
      if (result === NO_RESPONSE) {
        slot.chunks = [];
      } else {
        const response = result instanceof Farewell ? (result.response as unknown) : result;
        slot.farewell = result instanceof Farewell;
        slot.chunks = encodeResponseFrame(this.#writer, request.apiKey, request.responseVersion, request.correlationId, response as never);
        for (const c of slot.chunks) slot.bytes += c.length;
        this.#responseBytes += slot.bytes;
      }
    } catch (encodeError) {
      this.#ctx.log.error(`wire encode ${describeError(encodeError)}`, `kafkalite listener: a response (api key ${request.apiKey}) could not be encoded; closing its connection`, { error: encodeError });
      this.close();
      return;
    }
    this.#flush();
    this.#pump();
    this.#maybeResume();
  }

  /** Writes every response at the head of the queue that is ready, in order. */
  #flush(): void {
    const socket = this.#socket;
    let corked = false;
    while (this.#slots.length > 0 && this.#slots[0]!.chunks !== undefined && !this.#closed) {
      const slot = this.#slots.shift()!;
      if (!corked && slot.chunks!.length > 0) {
        socket.cork();
        corked = true;
      }
      for (const chunk of slot.chunks!) socket.write(chunk);
      this.#responseBytes -= slot.bytes;
      if (slot.farewell) {
        if (corked) socket.uncork();
        socket.end();
        this.#closed = true;
        this.#abort.abort();
        this.#onClose(this);
        return;
      }
    }
    if (corked) socket.uncork();
  }

  #overloaded(): boolean {
    return (
      this.#pendingRequests >= MAX_PENDING_REQUESTS ||
      this.#requestBytes >= MAX_PENDING_REQUEST_BYTES ||
      this.#responseBytes + this.#socket.writableLength >= MAX_PENDING_RESPONSE_BYTES
    );
  }

  #checkPressure(): void {
    if (!this.#paused && this.#overloaded()) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #maybeResume(): void {
    if (!this.#paused || this.#closed || this.#overloaded()) return;
    this.#paused = false;
    this.#socket.resume();
    // Frames that arrived before the pause are still buffered: go on with them.
    if (this.#reader.buffered > 0) this.#read(EMPTY);
  }
}
