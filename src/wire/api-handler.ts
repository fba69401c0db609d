import type { ApiKey, ApiMessageTypes, EncodeInput } from './protocol/index.js';
import type { SaslAuthenticator } from './sasl-authenticator.js';
import type { WireContext } from './wire-context.js';

/** A handler's answer when Kafka sends none (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response');

/**
 * Thrown by a handler to close the connection instead of answering, as Kafka does where a
 * response cannot tell the client (a failed Produce with acks=0).
 *
 * Concurrency: an immutable value, thrown (or rejected) by one request's handler.
 */
export class CloseConnection extends Error {
  override readonly name = 'CloseConnection';
}

/** What a handler knows of the connection its request came on. */
export interface Session {
  /** Aborted when the connection closes: long polls end early. */
  readonly signal: AbortSignal;
  /** The client's address, as DescribeGroups reports it. */
  readonly clientHost: string;
  /** The request header's client id (set for JoinGroup, which records it with the member). */
  readonly clientId?: string;
  /** The connection's SASL state; undefined when the listener requires no authentication. */
  readonly auth: SaslAuthenticator | undefined;
}

export type ApiResponse<K extends ApiKey> = EncodeInput<ApiMessageTypes[K]['response']>;

/**
 * A response after which the connection is closed (a failed SASL authentication, as Kafka does).
 *
 * Concurrency: an immutable value, returned by one request's handler.
 */
export class Farewell<K extends ApiKey> {
  constructor(readonly response: ApiResponse<K>) {}
}

export type HandlerResult<K extends ApiKey> = ApiResponse<K> | Farewell<K> | typeof NO_RESPONSE;

/**
 * One Kafka API as the listener serves it: the versions it advertises and the function that
 * answers a decoded request. One file per API under `apis/`; the dispatcher is the only caller.
 */
export interface ApiHandler<K extends ApiKey> {
  readonly apiKey: K;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * Answers one request. A handler that changes state must make every change it can make
   * synchronously before its first `await`: requests of one connection are started in order,
   * and Produce relies on it for the order of appends.
   */
  handle(ctx: WireContext, request: ApiMessageTypes[K]['request'], version: number, session: Session): HandlerResult<K> | Promise<HandlerResult<K>>;
}

/** Declares a handler with its api key's request and response types inferred. */
export function defineApi<K extends ApiKey>(handler: ApiHandler<K>): ApiHandler<K> {
  return handler;
}
