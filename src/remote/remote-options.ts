import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { SystemClock, type Clock } from '../clock.js';
import { invalidArgument, show } from '../errors.js';

/** SASL credentials for a Kafka cluster, with Kafka's mechanisms spelled as kafkalite's listener spells them. */
export interface SaslOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** The options every connection to a Kafka broker takes (a {@link ClusterClient} hands them to each one). */
export interface RemoteOptions {
  /** Sent in every request header: brokers log it and apply quotas by it. @default 'kafkalite' */
  clientId?: string;
  /**
   * TLS: `true` for Node's defaults (the system's CAs, the host name checked), or `node:tls`
   * connection options (`ca`, `cert`, `key`, `rejectUnauthorized`, `servername`, …).
   * @default plain TCP
   */
  ssl?: boolean | TlsConnectionOptions;
  /** SASL authentication after connecting (and after the TLS handshake, if any). @default none */
  sasl?: SaslOptions;
  /**
   * How long the TCP connection (and TLS handshake) may take, as Kafka's
   * `socket.connection.setup.timeout.ms`; ApiVersions and SASL are requests after that.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How long a request may wait for its response, as Kafka's `request.timeout.ms`; a Fetch may
   * wait its `maxWaitMs` and a JoinGroup its `rebalanceTimeoutMs` on top of it.
   * @default 30000
   */
  requestTimeoutMs?: number;
  /** Times connects and requests out. @default the system clock */
  clock?: Clock;
}

export const defaultRemoteOptions = {
  clientId: 'kafkalite',
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
} as const;

export interface ResolvedRemoteOptions {
  clientId: string;
  /** `undefined` for plain TCP. */
  tls: TlsConnectionOptions | undefined;
  sasl: SaslOptions | undefined;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  clock: Clock;
}

const REMOTE_KEYS = ['clientId', 'ssl', 'sasl', 'connectTimeoutMs', 'requestTimeoutMs', 'clock'];
const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'];
/** A Java int: Kafka's timeouts are int32 milliseconds. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Fills in defaults and checks every option (`INVALID_ARGUMENT` naming the bad value). `extraKeys`
 * are the caller's own options, which it checks itself.
 */
export function resolveRemoteOptions(options: unknown, what: string, extraKeys: readonly string[] = []): ResolvedRemoteOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgument(`${what} options must be an object (got ${show(options)})`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!REMOTE_KEYS.includes(key) && !extraKeys.includes(key)) throw invalidArgument(`unknown ${what} option ${show(key)}`);
  }
  const clientId = o.clientId ?? defaultRemoteOptions.clientId;
  if (typeof clientId !== 'string') throw invalidArgument(`clientId must be a string (got ${show(clientId)})`);
  const clock = (o.clock ?? new SystemClock()) as Clock;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    if (typeof (clock as unknown as Record<string, unknown>)?.[method] !== 'function') {
      throw invalidArgument(`clock must implement the Clock interface (it has no ${method}())`);
    }
  }
  return {
    clientId,
    tls: resolveSsl(o.ssl),
    sasl: resolveSasl(o.sasl),
    connectTimeoutMs: timeout(o, 'connectTimeoutMs', defaultRemoteOptions.connectTimeoutMs),
    requestTimeoutMs: timeout(o, 'requestTimeoutMs', defaultRemoteOptions.requestTimeoutMs),
    clock,
  };
}

function timeout(o: Record<string, unknown>, key: string, fallback: number): number {
  const value = o[key] ?? fallback;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_TIMEOUT_MS) {
    throw invalidArgument(`${key} must be an integer from 1 to ${MAX_TIMEOUT_MS} (got ${show(value)})`);
  }
  return value as number;
}

function resolveSsl(ssl: unknown): TlsConnectionOptions | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  if (ssl === true) return {};
  if (ssl === null || typeof ssl !== 'object' || Array.isArray(ssl)) {
    throw invalidArgument(`ssl must be true, false or an object of node:tls connection options (got ${show(ssl)})`);
  }
  return ssl as TlsConnectionOptions;
}

function resolveSasl(sasl: unknown): SaslOptions | undefined {
  if (sasl === undefined) return undefined;
  if (sasl === null || typeof sasl !== 'object' || Array.isArray(sasl)) {
    throw invalidArgument(`sasl must be { mechanism, username, password } (got ${show(sasl)})`);
  }
  const { mechanism, username, password, ...rest } = sasl as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw invalidArgument(`unknown sasl option ${show(extra)}`);
  if (!MECHANISMS.includes(mechanism as string)) {
    throw invalidArgument(`sasl.mechanism must be 'plain', 'scram-sha-256' or 'scram-sha-512' (got ${show(mechanism)})`);
  }
  if (typeof username !== 'string' || username.length === 0) throw invalidArgument(`sasl.username must be a non-empty string (got ${show(username)})`);
  // A password is a secret: the message names its type, never its value.
  if (typeof password !== 'string') throw invalidArgument(`sasl.password must be a string (got a ${password === null ? 'null' : typeof password})`);
  return { mechanism: mechanism as SaslOptions['mechanism'], username, password };
}

/** `host:port` (an IPv6 host in brackets) as a host and a port; `INVALID_ARGUMENT` otherwise. */
export function parseBrokerAddress(address: unknown): { host: string; port: number } {
  const m = typeof address === 'string' ? /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address) : null;
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    throw invalidArgument(`a broker address must be 'host:port' with a port from 1 to 65535 (got ${show(address)})`);
  }
  return { host: m[1] ?? m[2]!, port };
}
