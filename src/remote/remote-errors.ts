import { KafkaliteError, type ErrorCode } from '../errors.js';
import { KafkaErrorCode, isRetriableKafkaError } from '../wire/kafka-errors.js';

/** A partition's leader (or a group's coordinator) moved: look it up again before retrying. */
const MOVED = new Set<number>([
  KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  KafkaErrorCode.LEADER_NOT_AVAILABLE,
  KafkaErrorCode.NOT_LEADER_OR_FOLLOWER,
  KafkaErrorCode.FENCED_LEADER_EPOCH,
  KafkaErrorCode.UNKNOWN_LEADER_EPOCH,
  KafkaErrorCode.NOT_COORDINATOR,
  KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
  KafkaErrorCode.BROKER_NOT_AVAILABLE,
]);

export function isRetriableCode(code: number): boolean {
  return isRetriableKafkaError(code);
}

export function isMovedCode(code: number): boolean {
  return MOVED.has(code);
}

/** kafkalite's code for a Kafka error code a cluster answered. */
const KAFKALITE_CODE: Partial<Record<number, ErrorCode>> = {
  [KafkaErrorCode.OFFSET_OUT_OF_RANGE]: 'OFFSET_OUT_OF_RANGE',
  [KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: 'UNKNOWN_TOPIC',
  [KafkaErrorCode.MESSAGE_TOO_LARGE]: 'MESSAGE_TOO_LARGE',
  [KafkaErrorCode.RECORD_LIST_TOO_LARGE]: 'MESSAGE_TOO_LARGE',
  [KafkaErrorCode.INVALID_TOPIC_EXCEPTION]: 'INVALID_TOPIC',
  [KafkaErrorCode.TOPIC_ALREADY_EXISTS]: 'TOPIC_EXISTS',
  [KafkaErrorCode.INVALID_PARTITIONS]: 'INVALID_PARTITIONS',
  [KafkaErrorCode.INVALID_REPLICATION_FACTOR]: 'INVALID_CONFIG',
  [KafkaErrorCode.INVALID_CONFIG]: 'INVALID_CONFIG',
  [KafkaErrorCode.INVALID_REQUEST]: 'INVALID_ARGUMENT',
  [KafkaErrorCode.INVALID_RECORD]: 'INVALID_ARGUMENT',
  [KafkaErrorCode.CORRUPT_MESSAGE]: 'INVALID_ARGUMENT',
  [KafkaErrorCode.UNKNOWN_MEMBER_ID]: 'NOT_IN_GROUP',
  [KafkaErrorCode.ILLEGAL_GENERATION]: 'NOT_IN_GROUP',
  [KafkaErrorCode.REBALANCE_IN_PROGRESS]: 'NOT_IN_GROUP',
  [KafkaErrorCode.FENCED_INSTANCE_ID]: 'NOT_IN_GROUP',
  [KafkaErrorCode.NON_EMPTY_GROUP]: 'GROUP_NOT_EMPTY',
  [KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER]: 'OUT_OF_ORDER_SEQUENCE',
  [KafkaErrorCode.INVALID_PRODUCER_EPOCH]: 'PRODUCER_FENCED',
  [KafkaErrorCode.PRODUCER_FENCED]: 'PRODUCER_FENCED',
  [KafkaErrorCode.INVALID_TXN_STATE]: 'INVALID_TXN_STATE',
  [KafkaErrorCode.INVALID_PRODUCER_ID_MAPPING]: 'INVALID_TXN_STATE',
  [KafkaErrorCode.UNSUPPORTED_VERSION]: 'UNSUPPORTED',
  [KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT]: 'UNSUPPORTED',
  [KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE]: 'UNSUPPORTED',
  [KafkaErrorCode.LEADER_NOT_AVAILABLE]: 'LEADER_NOT_AVAILABLE',
  [KafkaErrorCode.NOT_LEADER_OR_FOLLOWER]: 'LEADER_NOT_AVAILABLE',
  [KafkaErrorCode.FENCED_LEADER_EPOCH]: 'LEADER_NOT_AVAILABLE',
  [KafkaErrorCode.UNKNOWN_LEADER_EPOCH]: 'LEADER_NOT_AVAILABLE',
  [KafkaErrorCode.REQUEST_TIMED_OUT]: 'REQUEST_TIMED_OUT',
  [KafkaErrorCode.NETWORK_EXCEPTION]: 'NETWORK_ERROR',
  [KafkaErrorCode.BROKER_NOT_AVAILABLE]: 'NETWORK_ERROR',
  [KafkaErrorCode.SASL_AUTHENTICATION_FAILED]: 'AUTHENTICATION_FAILED',
  // Kafka's ACLs refused it: the credentials are not allowed (kafkalite has one code for both).
  [KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED]: 'AUTHENTICATION_FAILED',
  [KafkaErrorCode.GROUP_AUTHORIZATION_FAILED]: 'AUTHENTICATION_FAILED',
  [KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED]: 'AUTHENTICATION_FAILED',
  [KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]: 'AUTHENTICATION_FAILED',
  [KafkaErrorCode.KAFKA_STORAGE_ERROR]: 'STORAGE_IO',
};

/** The names of Kafka's codes, for messages. */
const NAME_OF = new Map<number, string>(Object.entries(KafkaErrorCode).map(([name, code]) => [code, name]));

export function kafkaErrorName(code: number): string {
  return NAME_OF.get(code) ?? `error ${code}`;
}

/**
 * The `KafkaliteError` for a Kafka error code a cluster answered `what` with: kafkalite's code
 * where there is one (else `NETWORK_ERROR` for what Kafka calls retriable, `INVALID_ARGUMENT` for
 * a refusal), Kafka's name in the message, retriable as Kafka says.
 */
export function clusterError(code: number, what: string, context: { topic?: string; partition?: number; offset?: number; message?: string | null } = {}): KafkaliteError {
  const name = kafkaErrorName(code);
  const detail = context.message ? `: ${context.message}` : '';
  const where = context.topic === undefined ? '' : context.partition === undefined ? ` (${context.topic})` : ` (${context.topic}-${context.partition})`;
  return new KafkaliteError(KAFKALITE_CODE[code] ?? (isRetriableCode(code) ? 'NETWORK_ERROR' : 'INVALID_ARGUMENT'), `the cluster refused ${what}${where} with ${name} (${code})${detail}`, {
    retriable: isRetriableCode(code),
    ...(context.topic === undefined ? {} : { topic: context.topic }),
    ...(context.partition === undefined ? {} : { partition: context.partition }),
    ...(context.offset === undefined ? {} : { offset: context.offset }),
  });
}
