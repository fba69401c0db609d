import { hostname } from 'node:os';
import { createSecureContext, type TlsOptions } from 'node:tls';
import { invalidArgument, show } from '../errors.js';

/** The SASL mechanisms the listener can require. */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface ListenOptions {
  /** TCP port; `0` picks a free one (read it from `listener.address`). @default 9092 */
  port?: number;
  /** Address to bind. Loopback unless you say otherwise: any other host lets other machines in. @default '127.0.0.1' */
  host?: string;
  /**
   * Host name clients are told to connect to (Metadata, FindCoordinator): Kafka's
   * `advertised.listeners`.
   * @default `host`, or the machine's host name when `host` is a wildcard (`0.0.0.0`, `::`)
   */
  advertisedHost?: string;
  /**
   * Largest request frame accepted, in bytes (Kafka's `socket.request.max.bytes`): a size prefix
   * above it closes the connection before anything is allocated for the frame.
   * @default 104857600
   */
  maxRequestBytes?: number;
  /** Connections open at once at most; one more is closed at once. @default 1000 */
  maxConnections?: number;
  /** Serve TLS with these `node:tls` server options (`key`, `cert`, `ca`, `requestCert`, …). @default plain TCP */
  tls?: TlsOptions;
  /**
   * Require SASL authentication before any request but ApiVersions: `mechanism` is `'plain'`,
   * `'scram-sha-256'` or `'scram-sha-512'`; `users` maps each user name to its password.
   * @default no authentication
   */
  sasl?: { mechanism: SaslMechanism; users: Record<string, string> };
}

export interface ResolvedListenOptions {
  port: number;
  host: string;
  advertisedHost: string;
  maxRequestBytes: number;
  maxConnections: number;
  tls: TlsOptions | undefined;
  sasl: { mechanism: SaslMechanism; users: ReadonlyMap<string, string> } | undefined;
}

const KEYS = ['port', 'host', 'advertisedHost', 'maxRequestBytes', 'maxConnections', 'tls', 'sasl'];
const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** Fills in defaults and checks every option; `INVALID_ARGUMENT` naming the bad value. */
export function resolveListenOptions(options: unknown): ResolvedListenOptions {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw invalidArgument(`listen options must be an object (got ${show(options)})`);
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) throw invalidArgument(`unknown listen option ${show(key)}`);
  const port = o.port ?? 9092;
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    throw invalidArgument(`port must be an integer from 0 to 65535 (got ${show(port)})`);
  }
  const host = o.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw invalidArgument(`host must be a non-empty string (got ${show(host)})`);
  const advertisedHost = o.advertisedHost ?? (WILDCARDS.has(host) ? hostname() : host);
  if (typeof advertisedHost !== 'string' || !/^[A-Za-z0-9._:[\]-]+$/.test(advertisedHost)) {
    throw invalidArgument(`advertisedHost must be a host name or address clients can connect to (got ${show(advertisedHost)})`);
  }
  const maxRequestBytes = o.maxRequestBytes ?? 104_857_600;
  if (!Number.isInteger(maxRequestBytes) || (maxRequestBytes as number) < 64 || (maxRequestBytes as number) > 2 ** 31 - 1) {
    throw invalidArgument(`maxRequestBytes must be an integer from 64 to 2147483647 (got ${show(maxRequestBytes)})`);
  }
  const maxConnections = o.maxConnections ?? 1000;
  if (!Number.isInteger(maxConnections) || (maxConnections as number) < 1) {
    throw invalidArgument(`maxConnections must be a positive integer (got ${show(maxConnections)})`);
  }
  const tls = o.tls;
  if (tls !== undefined && (tls === null || typeof tls !== 'object' || Array.isArray(tls))) {
    throw invalidArgument(`tls must be an object of node:tls server options (got ${show(tls)})`);
  }
  if (tls !== undefined) checkTls(tls as TlsOptions);
  return {
    port: port as number,
    host,
    advertisedHost,
    maxRequestBytes: maxRequestBytes as number,
    maxConnections: maxConnections as number,
    tls: tls as TlsOptions | undefined,
    sasl: resolveSasl(o.sasl),
  };
}

function resolveSasl(sasl: unknown): ResolvedListenOptions['sasl'] {
  if (sasl === undefined) return undefined;
  if (sasl === null || typeof sasl !== 'object' || Array.isArray(sasl)) {
    throw invalidArgument(`sasl must be { mechanism, users } (got ${show(sasl)})`);
  }
  const { mechanism, users, ...rest } = sasl as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw invalidArgument(`unknown sasl option ${show(extra)}`);
  if (!MECHANISMS.includes(mechanism as SaslMechanism)) {
    throw invalidArgument(`sasl.mechanism must be 'plain', 'scram-sha-256' or 'scram-sha-512' (got ${show(mechanism)})`);
  }
  if (users === null || typeof users !== 'object' || Array.isArray(users)) {
    throw invalidArgument(`sasl.users must be an object of user name to password (got ${show(users)})`);
  }
  const map = new Map<string, string>();
  for (const [name, password] of Object.entries(users)) {
    if (name.length === 0) throw invalidArgument('sasl.users has an empty user name');
    if (typeof password !== 'string') throw invalidArgument(`the password of sasl user ${show(name)} must be a string (got ${show(password)})`);
    map.set(name, password);
  }
  if (map.size === 0) throw invalidArgument('sasl.users is empty: nobody could log in');
  return { mechanism: mechanism as SaslMechanism, users: map };
}

/** A TLS listener needs its certificate: `key` and `cert` (or `pfx`, or an `SNICallback`), which must load. */
function checkTls(tls: TlsOptions): void {
  const has = (k: keyof TlsOptions): boolean => tls[k] !== undefined && tls[k] !== null;
  if (!(has('key') && has('cert')) && !has('pfx') && !has('SNICallback')) {
    throw invalidArgument(`tls needs the server's key and cert (or pfx): got only ${show(Object.keys(tls))}`);
  }
  try {
    createSecureContext(tls);
  } catch (cause) {
    throw invalidArgument(`tls options do not load (key, cert, ca or pfx): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
