import type { TxnError, TxnResponse } from '../seam/kafka-api.js';
import { KafkaliteError } from '../errors.js';

/**
 * The Kafka error codes the listener answers with (Kafka's `Errors` enum; the numbers are the
 * protocol's and never change).
 */
export const KafkaErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  OPERATION_NOT_ATTEMPTED: 55,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  LISTENER_NOT_FOUND: 72,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  FENCED_INSTANCE_ID: 82,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  THROTTLING_QUOTA_EXCEEDED: 89,
  PRODUCER_FENCED: 90,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
} as const;

/**
 * The Kafka error codes a client may retry: those whose exception in Kafka's Java client is a
 * `RetriableException` (an `InvalidMetadataException` among them — the client refreshes its
 * metadata first). UNKNOWN_TOPIC_OR_PARTITION is here because it is what a broker answers while
 * metadata is still spreading; a caller must still give up after its retries, since a topic that
 * truly does not exist answers it forever.
 */
const RETRIABLE = new Set<number>([
  KafkaErrorCode.CORRUPT_MESSAGE,
  KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  KafkaErrorCode.LEADER_NOT_AVAILABLE,
  KafkaErrorCode.NOT_LEADER_OR_FOLLOWER,
  KafkaErrorCode.REQUEST_TIMED_OUT,
  KafkaErrorCode.REPLICA_NOT_AVAILABLE,
  KafkaErrorCode.NETWORK_EXCEPTION,
  KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
  KafkaErrorCode.NOT_COORDINATOR,
  KafkaErrorCode.NOT_ENOUGH_REPLICAS,
  KafkaErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  KafkaErrorCode.NOT_CONTROLLER,
  KafkaErrorCode.CONCURRENT_TRANSACTIONS,
  KafkaErrorCode.KAFKA_STORAGE_ERROR,
  KafkaErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  KafkaErrorCode.INVALID_FETCH_SESSION_EPOCH,
  KafkaErrorCode.LISTENER_NOT_FOUND,
  KafkaErrorCode.FENCED_LEADER_EPOCH,
  KafkaErrorCode.UNKNOWN_LEADER_EPOCH,
  KafkaErrorCode.OFFSET_NOT_AVAILABLE,
  KafkaErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
  KafkaErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
  KafkaErrorCode.UNSTABLE_OFFSET_COMMIT,
  KafkaErrorCode.THROTTLING_QUOTA_EXCEEDED,
  KafkaErrorCode.UNKNOWN_TOPIC_ID,
  KafkaErrorCode.INCONSISTENT_TOPIC_ID,
]);

/** Whether a request that a Kafka broker answered with `errorCode` may succeed if sent again. */
export function isRetriableKafkaError(errorCode: number): boolean {
  return RETRIABLE.has(errorCode);
}

/** A Kafka error code with the message to send where the response has room for one. */
export interface KafkaError {
  code: number;
  message: string;
}

/**
 * The Kafka error code for an error a kafkalite call threw, so every handler answers a refusal
 * the same way. Anything that is not a `KafkaliteError` is a bug or an I/O surprise:
 * UNKNOWN_SERVER_ERROR, as Kafka answers an unexpected exception.
 */
export function kafkaErrorOf(error: unknown): KafkaError {
  if (!(error instanceof KafkaliteError)) {
    return { code: KafkaErrorCode.UNKNOWN_SERVER_ERROR, message: error instanceof Error ? error.message : String(error) };
  }
  return { code: CODE_OF[error.code], message: error.message };
}

/** Kafka's error code for a kafkalite one (the seam's responses carry kafkalite's codes). */
export function kafkaCodeOf(code: KafkaliteError['code']): number {
  return CODE_OF[code];
}

const CODE_OF: Record<KafkaliteError['code'], number> = {
  INVALID_TOPIC: KafkaErrorCode.INVALID_TOPIC_EXCEPTION,
  TOPIC_EXISTS: KafkaErrorCode.TOPIC_ALREADY_EXISTS,
  UNKNOWN_TOPIC: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  INVALID_PARTITIONS: KafkaErrorCode.INVALID_PARTITIONS,
  UNKNOWN_PARTITION: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  INVALID_CONFIG: KafkaErrorCode.INVALID_CONFIG,
  INVALID_ARGUMENT: KafkaErrorCode.INVALID_REQUEST,
  MESSAGE_TOO_LARGE: KafkaErrorCode.MESSAGE_TOO_LARGE,
  OFFSET_OUT_OF_RANGE: KafkaErrorCode.OFFSET_OUT_OF_RANGE,
  // A commit fenced because the member no longer holds the partition (Kafka's answer to a
  // member it does not know).
  NOT_IN_GROUP: KafkaErrorCode.UNKNOWN_MEMBER_ID,
  GROUP_NOT_EMPTY: KafkaErrorCode.NON_EMPTY_GROUP,
  // The broker is closing: retriable, and clients go looking for another broker.
  CLOSED: KafkaErrorCode.BROKER_NOT_AVAILABLE,
  STORAGE_LOCKED: KafkaErrorCode.KAFKA_STORAGE_ERROR,
  STORAGE_CORRUPT: KafkaErrorCode.KAFKA_STORAGE_ERROR,
  STORAGE_IO: KafkaErrorCode.KAFKA_STORAGE_ERROR,
  UNSUPPORTED: KafkaErrorCode.UNKNOWN_SERVER_ERROR,
  // Only clients deserialize; no request of a wire client can end in it.
  DESERIALIZATION_FAILED: KafkaErrorCode.UNKNOWN_SERVER_ERROR,
  // The schema registry's own: no Kafka request raises them.
  INVALID_SCHEMA: KafkaErrorCode.INVALID_REQUEST,
  INCOMPATIBLE_SCHEMA: KafkaErrorCode.INVALID_REQUEST,
  UNKNOWN_SCHEMA: KafkaErrorCode.UNKNOWN_SERVER_ERROR,
  OUT_OF_ORDER_SEQUENCE: KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  // What Kafka answers a Produce from an old epoch (PRODUCER_FENCED is for transactional calls).
  PRODUCER_FENCED: KafkaErrorCode.INVALID_PRODUCER_EPOCH,
  INVALID_TXN_STATE: KafkaErrorCode.INVALID_TXN_STATE,
  // A seam that reaches a Kafka cluster (Broker.connect) fails with these; a listener in front of
  // it answers them as the cluster's own broker would.
  NETWORK_ERROR: KafkaErrorCode.NETWORK_EXCEPTION,
  REQUEST_TIMED_OUT: KafkaErrorCode.REQUEST_TIMED_OUT,
  AUTHENTICATION_FAILED: KafkaErrorCode.SASL_AUTHENTICATION_FAILED,
  LEADER_NOT_AVAILABLE: KafkaErrorCode.LEADER_NOT_AVAILABLE,
};

/**
 * The code for a transaction refusal the seam answered by Kafka's name (NONE for none). Clients
 * of the requests' old versions do not know PRODUCER_FENCED (KIP-588): Kafka answers them
 * INVALID_PRODUCER_EPOCH, which they handle the same way, and so does the listener when
 * `fencedAsEpoch` says the request is of such a version.
 */
export function txnErrorCode(error: TxnError | undefined, fencedAsEpoch: boolean): number {
  if (error === undefined) return KafkaErrorCode.NONE;
  if (error === 'PRODUCER_FENCED' && fencedAsEpoch) return KafkaErrorCode.INVALID_PRODUCER_EPOCH;
  return KafkaErrorCode[error];
}

/** Runs one transaction call of the seam and answers its code: its refusal's, or that of what it threw. */
export async function txnCallCode(call: () => Promise<TxnResponse>, fencedAsEpoch: boolean): Promise<number> {
  try {
    return txnErrorCode((await call()).error, fencedAsEpoch);
  } catch (error) {
    return kafkaErrorOf(error).code;
  }
}
