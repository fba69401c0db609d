/**
 * KafkaJS' error classes (same names, hierarchy, `name`, `retriable` and extra fields), the Kafka
 * protocol errors the in-process broker can answer with, and the mapping of kafkalite's own
 * errors onto them. A mapped error keeps the kafkalite error, whose message names the bad value,
 * as its `cause`.
 */

export interface KafkaJSErrorMetadata {
  retriable?: boolean;
  topic?: string;
  partitionId?: number;
  cause?: unknown;
}

type ErrorInput = Error | string | { message: string; helpUrl?: string };

const messageOf = (e: ErrorInput): string => (typeof e === 'string' ? e : e.message);

export class KafkaJSError extends Error {
  override name = 'KafkaJSError';
  readonly retriable: boolean;
  readonly helpUrl?: string;
  /** The error this one wraps (for a mapped kafkalite error: that error, whose message names the bad value). */
  declare readonly cause?: Error;

  constructor(e: ErrorInput, metadata: KafkaJSErrorMetadata = {}) {
    super(messageOf(e), metadata.cause === undefined ? undefined : { cause: metadata.cause });
    this.retriable = metadata.retriable ?? true;
    const helpUrl = typeof e === 'object' ? (e as { helpUrl?: string }).helpUrl : undefined;
    if (helpUrl !== undefined) this.helpUrl = helpUrl;
  }
}

export class KafkaJSNonRetriableError extends KafkaJSError {
  constructor(e: ErrorInput, metadata: { cause?: unknown } = {}) {
    super(e, { retriable: false, cause: metadata.cause });
    this.name = 'KafkaJSNonRetriableError';
  }
}

/** What Kafka answers with: a type (Kafka's error name), its numeric code, and a message. */
export interface ProtocolErrorInfo {
  type: string;
  code: number;
  retriable: boolean;
  message: string;
}

export class KafkaJSProtocolError extends KafkaJSError {
  readonly type: string;
  readonly code: number;

  constructor(e: ProtocolErrorInfo | ErrorInput, metadata: { retriable?: boolean; cause?: unknown } = {}) {
    const info = typeof e === 'object' && 'type' in e ? e : undefined;
    super(e, { retriable: metadata.retriable ?? info?.retriable ?? false, cause: metadata.cause });
    this.type = info?.type ?? 'UNKNOWN';
    this.code = info?.code ?? -1;
    this.name = 'KafkaJSProtocolError';
  }
}

export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  readonly topic: string;
  readonly partition: number;

  constructor(e: ProtocolErrorInfo | ErrorInput, metadata: { topic: string; partition: number; cause?: unknown }) {
    super(e, { cause: metadata.cause });
    this.topic = metadata.topic;
    this.partition = metadata.partition;
    this.name = 'KafkaJSOffsetOutOfRange';
  }
}

export class KafkaJSMemberIdRequired extends KafkaJSProtocolError {
  readonly memberId: string;

  constructor(e: ProtocolErrorInfo | ErrorInput, metadata: { memberId: string }) {
    super(e);
    this.memberId = metadata.memberId;
    this.name = 'KafkaJSMemberIdRequired';
  }
}

export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  readonly retryCount: number;
  readonly retryTime: number;

  constructor(e: Error | string, metadata: { retryCount: number; retryTime: number }) {
    super(e, { cause: e });
    this.name = 'KafkaJSNumberOfRetriesExceeded';
    this.stack = `${this.name}\n  Caused by: ${typeof e === 'string' ? e : e.stack}`;
    this.retryCount = metadata.retryCount;
    this.retryTime = metadata.retryTime;
  }
}

export class KafkaJSConnectionError extends KafkaJSError {
  readonly broker?: string;
  readonly code?: string;

  constructor(e: ErrorInput, metadata: { broker?: string; code?: string; cause?: unknown } = {}) {
    super(e, { cause: metadata.cause });
    if (metadata.broker !== undefined) this.broker = metadata.broker;
    if (metadata.code !== undefined) this.code = metadata.code;
    this.name = 'KafkaJSConnectionError';
  }
}

export class KafkaJSConnectionClosedError extends KafkaJSConnectionError {
  readonly host?: string;
  readonly port?: number;

  constructor(e: ErrorInput, metadata: { host?: string; port?: number } = {}) {
    super(e, { broker: `${metadata.host}:${metadata.port}` });
    if (metadata.host !== undefined) this.host = metadata.host;
    if (metadata.port !== undefined) this.port = metadata.port;
    this.name = 'KafkaJSConnectionClosedError';
  }
}

export class KafkaJSRequestTimeoutError extends KafkaJSError {
  readonly broker?: string;
  readonly correlationId?: number;
  readonly createdAt?: number;
  readonly sentAt?: number;
  readonly pendingDuration?: number;

  constructor(
    e: ErrorInput,
    metadata: { broker?: string; correlationId?: number; createdAt?: number; sentAt?: number; pendingDuration?: number } = {},
  ) {
    super(e);
    Object.assign(this, metadata);
    this.name = 'KafkaJSRequestTimeoutError';
  }
}

export class KafkaJSMetadataNotLoaded extends KafkaJSError {
  constructor(e: ErrorInput = 'Metadata not loaded', metadata?: KafkaJSErrorMetadata) {
    super(e, metadata);
    this.name = 'KafkaJSMetadataNotLoaded';
  }
}

export class KafkaJSTopicMetadataNotLoaded extends KafkaJSMetadataNotLoaded {
  readonly topic?: string;

  constructor(e: ErrorInput, metadata: { topic?: string } = {}) {
    super(e);
    if (metadata.topic !== undefined) this.topic = metadata.topic;
    this.name = 'KafkaJSTopicMetadataNotLoaded';
  }
}

export class KafkaJSStaleTopicMetadataAssignment extends KafkaJSError {
  readonly topic?: string;
  readonly unknownPartitions?: unknown;

  constructor(e: ErrorInput, metadata: { topic?: string; unknownPartitions?: unknown } = {}) {
    super(e);
    if (metadata.topic !== undefined) this.topic = metadata.topic;
    if (metadata.unknownPartitions !== undefined) this.unknownPartitions = metadata.unknownPartitions;
    this.name = 'KafkaJSStaleTopicMetadataAssignment';
  }
}

export interface DeleteGroupsErrorEntry {
  groupId: string;
  errorCode?: number;
  error?: KafkaJSProtocolError;
}

export class KafkaJSDeleteGroupsError extends KafkaJSError {
  readonly groups: DeleteGroupsErrorEntry[];

  constructor(e: ErrorInput, groups: DeleteGroupsErrorEntry[] = []) {
    super(e);
    this.groups = groups;
    this.name = 'KafkaJSDeleteGroupsError';
  }
}

export class KafkaJSServerDoesNotSupportApiKey extends KafkaJSNonRetriableError {
  readonly apiKey?: number;
  readonly apiName?: string;

  constructor(e: ErrorInput, metadata: { apiKey?: number; apiName?: string } = {}) {
    super(e);
    if (metadata.apiKey !== undefined) this.apiKey = metadata.apiKey;
    if (metadata.apiName !== undefined) this.apiName = metadata.apiName;
    this.name = 'KafkaJSServerDoesNotSupportApiKey';
  }
}

export class KafkaJSBrokerNotFound extends KafkaJSError {
  constructor(e: ErrorInput = 'Broker not found', metadata?: KafkaJSErrorMetadata) {
    super(e, metadata);
    this.name = 'KafkaJSBrokerNotFound';
  }
}

/** A non-retriable error with only a message, under its own `name`. */
function named(name: string): typeof KafkaJSNonRetriableError {
  return class extends KafkaJSNonRetriableError {
    constructor(e: ErrorInput = name, metadata: { cause?: unknown } = {}) {
      super(e, metadata);
      this.name = name;
    }
  };
}

export class KafkaJSPartialMessageError extends named('KafkaJSPartialMessageError') {}
export class KafkaJSSASLAuthenticationError extends named('KafkaJSSASLAuthenticationError') {}
export class KafkaJSGroupCoordinatorNotFound extends named('KafkaJSGroupCoordinatorNotFound') {}
export class KafkaJSNotImplemented extends named('KafkaJSNotImplemented') {}
export class KafkaJSTimeout extends named('KafkaJSTimeout') {}
export class KafkaJSUnsupportedMagicByteInMessageSet extends named('KafkaJSUnsupportedMagicByteInMessageSet') {}

export class KafkaJSLockTimeout extends KafkaJSTimeout {
  constructor(e: ErrorInput = 'KafkaJSLockTimeout', metadata: { cause?: unknown } = {}) {
    super(e, metadata);
    this.name = 'KafkaJSLockTimeout';
  }
}

/** KafkaJS names these two `KafkaJSNonRetriableError`. */
export class KafkaJSInvalidVarIntError extends KafkaJSNonRetriableError {}
export class KafkaJSInvalidLongError extends KafkaJSNonRetriableError {}

export class KafkaJSInvariantViolation extends KafkaJSNonRetriableError {
  constructor(e: ErrorInput) {
    super(`Invariant violated: ${messageOf(e)}. This is likely a bug and should be reported.`);
    this.name = 'KafkaJSInvariantViolation';
  }
}

export interface DeleteTopicRecordsErrorPartition {
  partition: number;
  offset: string;
  error: KafkaJSError;
}

export class KafkaJSDeleteTopicRecordsError extends KafkaJSError {
  readonly partitions: DeleteTopicRecordsErrorPartition[];

  constructor(metadata: { topic?: string; partitions: DeleteTopicRecordsErrorPartition[] }) {
    const retriable = metadata.partitions.every(({ error }) => error.retriable);
    super('Error while deleting records', { retriable });
    this.partitions = metadata.partitions;
    this.name = 'KafkaJSDeleteTopicRecordsError';
  }
}

export class KafkaJSCreateTopicError extends KafkaJSProtocolError {
  readonly topic: string;

  constructor(e: ProtocolErrorInfo | ErrorInput, topic: string, metadata: { cause?: unknown } = {}) {
    super(e, metadata);
    this.topic = topic;
    this.name = 'KafkaJSCreateTopicError';
  }
}

export class KafkaJSAlterPartitionReassignmentsError extends KafkaJSProtocolError {
  readonly topic?: string;
  readonly partition?: number;

  constructor(e: ProtocolErrorInfo | ErrorInput, topic?: string, partition?: number) {
    super(e);
    if (topic !== undefined) this.topic = topic;
    if (partition !== undefined) this.partition = partition;
    this.name = 'KafkaJSAlterPartitionReassignmentsError';
  }
}

export class KafkaJSAggregateError extends Error {
  readonly errors: (Error | string)[];

  constructor(message: Error | string, errors: (Error | string)[]) {
    super(messageOf(message));
    this.errors = errors;
    this.name = 'KafkaJSAggregateError';
  }
}

export class KafkaJSFetcherRebalanceError extends Error {}

export class KafkaJSNoBrokerAvailableError extends KafkaJSError {
  constructor() {
    super('No broker available');
    this.name = 'KafkaJSNoBrokerAvailableError';
  }
}

// -------------------------------------------------------------------------------------------
// Kafka protocol errors the in-process broker answers with (types, codes and messages as Kafka's).

export const protocolErrors = {
  OFFSET_OUT_OF_RANGE: { code: 1, retriable: false, message: 'The requested offset is not within the range of offsets maintained by the server' },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, retriable: true, message: 'This server does not host this topic-partition' },
  MESSAGE_TOO_LARGE: { code: 10, retriable: false, message: 'The request included a message larger than the max message size the server will accept' },
  INVALID_TOPIC_EXCEPTION: { code: 17, retriable: false, message: 'The request attempted to perform an operation on an invalid topic' },
  UNKNOWN_MEMBER_ID: { code: 25, retriable: false, message: 'The coordinator is not aware of this member' },
  TOPIC_ALREADY_EXISTS: { code: 36, retriable: false, message: 'Topic with this name already exists' },
  INVALID_PARTITIONS: { code: 37, retriable: false, message: 'Number of partitions is invalid' },
  INVALID_REPLICATION_FACTOR: { code: 38, retriable: false, message: 'Replication-factor is invalid' },
  INVALID_CONFIG: { code: 40, retriable: false, message: 'Configuration is invalid' },
  ILLEGAL_GENERATION: { code: 22, retriable: false, message: 'Specified group generation id is not valid' },
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, retriable: false, message: 'The group member\'s supported protocols are incompatible with those of existing members' },
  INVALID_SESSION_TIMEOUT: { code: 26, retriable: false, message: 'The session timeout is not within an acceptable range' },
  REBALANCE_IN_PROGRESS: { code: 27, retriable: false, message: 'The group is rebalancing, so a rejoin is needed' },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 45, retriable: false, message: 'The broker received an out of order sequence number' },
  INVALID_PRODUCER_EPOCH: {
    code: 47,
    retriable: false,
    message: "Producer attempted an operation with an old epoch. Either there is a newer producer with the same transactionalId, or the producer's transaction has been expired by the broker",
  },
  INVALID_TXN_STATE: { code: 48, retriable: false, message: 'The producer attempted a transactional operation in an invalid state' },
  NON_EMPTY_GROUP: { code: 68, retriable: false, message: 'The group is not empty' },
  GROUP_ID_NOT_FOUND: { code: 69, retriable: false, message: 'The group id was not found' },
} as const;

export type ProtocolErrorType = keyof typeof protocolErrors;

export function protocolErrorInfo(type: ProtocolErrorType): ProtocolErrorInfo {
  return { type, ...protocolErrors[type] };
}

/** Kafka's answer `type` as KafkaJS throws it; the kafkalite error, if any, is its `cause`. */
export function protocolError(type: ProtocolErrorType, cause?: unknown): KafkaJSProtocolError {
  return new KafkaJSProtocolError(protocolErrorInfo(type), { cause });
}

/** A KafkaJS feature the in-process cluster cannot offer yet: what, and why. */
export function notSupported(what: string, why: string): KafkaJSNonRetriableError {
  return new KafkaJSNonRetriableError(`${what} is not supported by kafkalite/kafkajs yet: ${why}`);
}

// -------------------------------------------------------------------------------------------
// kafkalite errors → KafkaJS errors

/** The shape of a `KafkaliteError`, checked by duck typing (the CommonJS build bundles its own copy). */
export interface CoreError extends Error {
  code: string;
  topic?: string;
  partition?: number;
  offset?: number;
  retriable?: boolean;
}

export function isCoreError(error: unknown, code?: string): error is CoreError {
  return (
    error instanceof Error &&
    error.name === 'KafkaliteError' &&
    typeof (error as CoreError).code === 'string' &&
    (code === undefined || (error as CoreError).code === code)
  );
}

const coreToProtocol: Record<string, ProtocolErrorType> = {
  UNKNOWN_TOPIC: 'UNKNOWN_TOPIC_OR_PARTITION',
  UNKNOWN_PARTITION: 'UNKNOWN_TOPIC_OR_PARTITION',
  TOPIC_EXISTS: 'TOPIC_ALREADY_EXISTS',
  INVALID_TOPIC: 'INVALID_TOPIC_EXCEPTION',
  INVALID_PARTITIONS: 'INVALID_PARTITIONS',
  INVALID_CONFIG: 'INVALID_CONFIG',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  NOT_IN_GROUP: 'UNKNOWN_MEMBER_ID',
  GROUP_NOT_EMPTY: 'NON_EMPTY_GROUP',
  OUT_OF_ORDER_SEQUENCE: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
  // KafkaJS speaks Produce v3 / EndTxn v1, to which Kafka answers a fenced producer with
  // INVALID_PRODUCER_EPOCH (PRODUCER_FENCED, code 90, only from newer request versions on).
  PRODUCER_FENCED: 'INVALID_PRODUCER_EPOCH',
  INVALID_TXN_STATE: 'INVALID_TXN_STATE',
};

/** What KafkaJS would have thrown for a kafkalite error; anything else is returned as is. */
export function toKafkaJSError(error: unknown): unknown {
  if (error instanceof KafkaJSError || !isCoreError(error)) return error;
  if (error.code === 'OFFSET_OUT_OF_RANGE') {
    return new KafkaJSOffsetOutOfRange(protocolErrorInfo('OFFSET_OUT_OF_RANGE'), {
      topic: error.topic ?? '',
      partition: error.partition ?? -1,
      cause: error,
    });
  }
  const type = coreToProtocol[error.code];
  if (type !== undefined) return protocolError(type, error);
  // The coordinator's own answer (a refused JoinGroup, say), when the core error carries it.
  const answer = (error.cause as { groupError?: string } | undefined)?.groupError;
  if (answer !== undefined && Object.hasOwn(protocolErrors, answer)) return protocolError(answer as ProtocolErrorType, error);
  if (error.code === 'CLOSED') {
    return new KafkaJSConnectionError(`Connection closed: ${error.message} (the in-process cluster was reset or closed)`, { cause: error });
  }
  if (error.code === 'INVALID_ARGUMENT') return new KafkaJSNonRetriableError(error.message, { cause: error });
  return new KafkaJSError(error.message, { retriable: error.retriable ?? false, cause: error });
}

/** Runs `fn`, rethrowing kafkalite errors as KafkaJS' errors. */
export async function kafkaJSErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toKafkaJSError(error);
  }
}
