import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { invalidArgument } from '../errors.js';
import { Connection } from './connection.js';
import { ADVERTISED } from './dispatcher.js';
import type { ResolvedListenOptions } from './listen-options.js';
import { Writer } from './protocol/index.js';
import { SaslAuthenticator, SaslUsers } from './sasl-authenticator.js';
import type { WireBroker, WireContext } from './wire-context.js';

/** A broker served over Kafka's wire protocol: what `broker.listen(options)` returns. */
export interface Listener {
  /** `host:port` clients connect to: the advertised host and the bound port, e.g. `'127.0.0.1:9092'`. */
  readonly address: string;
  /** Client connections open now. */
  readonly connections: number;
  /** Stops accepting, closes every connection and frees the port. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The {@link Listener} on a TCP port (plain or TLS, optionally behind SASL). Any Kafka client can
 * connect; it shares topics, records, groups and committed offsets with the broker's in-process
 * clients.
 *
 * Concurrency: connections are served concurrently; `close` may be called at any time, more than
 * once, and the broker closes its listeners before itself.
 */
export class TcpListener implements Listener {
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #address: string;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, address: string) {
    this.#server = server;
    this.#address = address;
  }

  /** `host:port` as clients reach it: the advertised host and the bound port (`'127.0.0.1:9092'`). */
  get address(): string {
    return this.#address;
  }

  /**
   * Opens a listener (called by `Broker.listen`, which checked the options). A port that cannot
   * be bound (in use, not allowed) is `INVALID_ARGUMENT` with the OS error as `cause`.
   */
  static async open(broker: WireBroker, options: ResolvedListenOptions, onClose: (listener: TcpListener) => void): Promise<TcpListener> {
    const users = options.sasl === undefined ? undefined : await SaslUsers.of(options.sasl.mechanism, options.sasl.users);
    const server = options.tls === undefined ? createTcpServer() : createTlsServer(options.tls);
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error): void => reject(listenFailed(options, error));
      server.once('error', failed);
      server.listen({ port: options.port, host: options.host }, () => {
        server.off('error', failed);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const ctx: WireContext = { ...broker, listen: options, port, advertised: ADVERTISED };
    const host = options.advertisedHost.includes(':') ? `[${options.advertisedHost}]` : options.advertisedHost;
    const listener = new TcpListener(server, `${host}:${port}`);
    const writer = new Writer();
    const accept = (socket: Socket): void => {
      if (listener.#closing !== undefined || listener.#connections.size >= options.maxConnections) {
        socket.destroy();
        return;
      }
      const auth = users === undefined ? undefined : new SaslAuthenticator(users);
      listener.#connections.add(new Connection(socket, ctx, writer, auth, (c) => listener.#connections.delete(c)));
    };
    server.on(options.tls === undefined ? 'connection' : 'secureConnection', accept);
    // A TLS handshake that fails (or a client that goes away) must not take the process down.
    server.on('tlsClientError', (_error: Error, socket: Socket) => socket.destroy());
    server.on('error', () => undefined);
    listener.#onClose = onClose;
    return listener;
  }

  #onClose: (listener: TcpListener) => void = () => undefined;

  /** Connections open now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Stops accepting, closes every connection (their long polls end at once) and frees the port. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const c of [...this.#connections]) c.close();
      this.#onClose(this);
    });
    return this.#closing;
  }
}

function listenFailed(options: ResolvedListenOptions, cause: Error): Error {
  const code = (cause as NodeJS.ErrnoException).code ?? cause.message;
  return invalidArgument(`cannot listen on ${options.host}:${options.port} (${code}: ${cause.message})`, { cause });
}
