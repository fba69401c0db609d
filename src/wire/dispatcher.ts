import type { Session } from './api-handler.js';
import { addOffsetsToTxn } from './apis/add-offsets-to-txn.js';
import { addPartitionsToTxn } from './apis/add-partitions-to-txn.js';
import { alterConfigs } from './apis/alter-configs.js';
import { apiVersions } from './apis/api-versions.js';
import { createPartitions } from './apis/create-partitions.js';
import { createTopics } from './apis/create-topics.js';
import { deleteGroups } from './apis/delete-groups.js';
import { deleteRecords } from './apis/delete-records.js';
import { deleteTopics } from './apis/delete-topics.js';
import { describeConfigs } from './apis/describe-configs.js';
import { describeGroups } from './apis/describe-groups.js';
import { endTxn } from './apis/end-txn.js';
import { fetch } from './apis/fetch.js';
import { findCoordinator } from './apis/find-coordinator.js';
import { heartbeat } from './apis/heartbeat.js';
import { joinGroup } from './apis/join-group.js';
import { leaveGroup } from './apis/leave-group.js';
import { syncGroup } from './apis/sync-group.js';
import { incrementalAlterConfigs } from './apis/incremental-alter-configs.js';
import { initProducerId } from './apis/init-producer-id.js';
import { listGroups } from './apis/list-groups.js';
import { listOffsets } from './apis/list-offsets.js';
import { metadata } from './apis/metadata.js';
import { offsetCommit } from './apis/offset-commit.js';
import { offsetFetch } from './apis/offset-fetch.js';
import { produce } from './apis/produce.js';
import { saslAuthenticate } from './apis/sasl-authenticate.js';
import { saslHandshake } from './apis/sasl-handshake.js';
import { txnOffsetCommit } from './apis/txn-offset-commit.js';
import { KafkaErrorCode } from './kafka-errors.js';
import { ApiKey, ProtocolError, apiCodec, readRequestFrame, type ApiCodec, type ApiVersionsResponseApiVersion } from './protocol/index.js';
import type { WireContext } from './wire-context.js';

/** Every API the listener serves, one file each under `apis/`. */
const HANDLERS = [
  joinGroup,
  syncGroup,
  heartbeat,
  leaveGroup,
  produce,
  fetch,
  listOffsets,
  metadata,
  offsetCommit,
  offsetFetch,
  findCoordinator,
  describeGroups,
  listGroups,
  saslHandshake,
  apiVersions,
  createTopics,
  deleteTopics,
  deleteRecords,
  initProducerId,
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  txnOffsetCommit,
  describeConfigs,
  alterConfigs,
  saslAuthenticate,
  createPartitions,
  deleteGroups,
  incrementalAlterConfigs,
];

type ErasedHandler = { apiKey: number; minVersion: number; maxVersion: number; handle(ctx: WireContext, request: unknown, version: number, session: Session): unknown };
const BY_KEY = new Map<number, ErasedHandler>(HANDLERS.map((h) => [h.apiKey, h as unknown as ErasedHandler]));

/** What ApiVersions advertises: every served API and its version range, by api key. */
export const ADVERTISED: readonly ApiVersionsResponseApiVersion[] = [...BY_KEY.values()]
  .sort((a, b) => a.apiKey - b.apiKey)
  .map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));

/** APIs an unauthenticated connection may use on a SASL listener. */
const BEFORE_AUTH = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

/**
 * How a request is scheduled on its connection: `read` (Fetch) never holds up the requests behind
 * it, `append` (Produce) holds up all but other appends and reads, `exclusive` (everything else)
 * starts once everything before it but reads is done — so an admin request sees the effects of
 * the requests sent before it, as on Kafka, while a long-polling Fetch does not stall the line.
 */
export type Lane = 'read' | 'append' | 'exclusive';

/** A request ready to run: what to answer with, and how to encode the answer. */
export interface DispatchedRequest {
  readonly kind: 'request';
  readonly apiKey: ApiKey;
  /** The version to encode the response in (v0 for an ApiVersions request of an unknown version). */
  readonly responseVersion: number;
  readonly correlationId: number;
  readonly lane: Lane;
  run(): unknown;
}

/** A frame the listener answers by closing the connection, as Kafka does. */
export interface Refusal {
  readonly kind: 'close';
  readonly reason: string;
}

/**
 * The one place requests are dispatched: reads a frame's header, refuses what Kafka refuses by
 * closing (an unknown API or version, a malformed frame, a request before SASL authentication),
 * answers an ApiVersions request of an unknown version with UNSUPPORTED_VERSION in v0's layout,
 * decodes the body and hands it to the API's handler.
 */
export function dispatch(ctx: WireContext, frame: Uint8Array, session: Session): DispatchedRequest | Refusal {
  let header;
  let body;
  try {
    ({ header, body } = readRequestFrame(frame));
  } catch (error) {
    return { kind: 'close', reason: describe(error) };
  }
  const { requestApiKey: apiKey, requestApiVersion: version, correlationId } = header;
  if (session.auth !== undefined && !session.auth.authenticated && !BEFORE_AUTH.has(apiKey)) {
    return { kind: 'close', reason: `api key ${apiKey} before SASL authentication` };
  }
  const handler = BY_KEY.get(apiKey);
  if (handler === undefined) return { kind: 'close', reason: `api key ${apiKey} is not served` };
  if (version < handler.minVersion || version > handler.maxVersion) {
    if (apiKey !== ApiKey.ApiVersions) return { kind: 'close', reason: `api key ${apiKey} version ${version} is not served` };
    // Kafka answers it so that the client can retry with a version both know (KIP-511).
    const response = { errorCode: KafkaErrorCode.UNSUPPORTED_VERSION, apiKeys: ctx.advertised };
    return { kind: 'request', apiKey: ApiKey.ApiVersions, responseVersion: 0, correlationId, lane: 'exclusive', run: () => response };
  }
  let request: unknown;
  try {
    request = (apiCodec(apiKey) as ApiCodec<unknown, unknown>).decodeRequest(body, version);
  } catch (error) {
    return { kind: 'close', reason: describe(error) };
  }
  const lane: Lane = apiKey === ApiKey.Fetch ? 'read' : apiKey === ApiKey.Produce ? 'append' : 'exclusive';
  const on = apiKey === ApiKey.JoinGroup ? { ...session, clientId: header.clientId ?? '' } : session;
  return { kind: 'request', apiKey: apiKey as ApiKey, responseVersion: version, correlationId, lane, run: () => handler.handle(ctx, request, version, on) };
}

/** Why a frame could not be read; any error counts (a codec bug must close one connection, not crash the process). */
function describe(error: unknown): string {
  if (error instanceof ProtocolError) return `malformed request: ${error.message}`;
  return `unreadable request: ${error instanceof Error ? error.message : String(error)}`;
}
