/**
 * Every error kafkalite throws for a reason of its own is a {@link KafkaliteError} with a
 * `code` from {@link ErrorCodes}. Errors are made only through the factories at the bottom of
 * this file, so that messages stay uniform and always name the offending value.
 */

/** The error codes, one list for the whole library. */
export const ErrorCodes = [
  'INVALID_TOPIC',
  'TOPIC_EXISTS',
  'UNKNOWN_TOPIC',
  'INVALID_PARTITIONS',
  'UNKNOWN_PARTITION',
  'INVALID_CONFIG',
  'INVALID_ARGUMENT',
  'MESSAGE_TOO_LARGE',
  'OFFSET_OUT_OF_RANGE',
  'NOT_IN_GROUP',
  'GROUP_NOT_EMPTY',
  'CLOSED',
  'STORAGE_LOCKED',
  'STORAGE_CORRUPT',
  'STORAGE_IO',
  'UNSUPPORTED',
  'DESERIALIZATION_FAILED',
  'INVALID_SCHEMA',
  'INCOMPATIBLE_SCHEMA',
  'UNKNOWN_SCHEMA',
  'OUT_OF_ORDER_SEQUENCE',
  'PRODUCER_FENCED',
  'INVALID_TXN_STATE',
  'NETWORK_ERROR',
  'REQUEST_TIMED_OUT',
  'AUTHENTICATION_FAILED',
  'LEADER_NOT_AVAILABLE',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export interface KafkaliteErrorOptions {
  cause?: unknown;
  /** True when the same call may succeed if tried again (KafkaJS' `retriable`). */
  retriable?: boolean;
  topic?: string;
  partition?: number;
  offset?: number;
}

export class KafkaliteError extends Error {
  override readonly name = 'KafkaliteError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;

  constructor(code: ErrorCode, message: string, options: KafkaliteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
    if (options.topic !== undefined) this.topic = options.topic;
    if (options.partition !== undefined) this.partition = options.partition;
    if (options.offset !== undefined) this.offset = options.offset;
  }
}

/** Renders a value for an error message: strings quoted, everything else as JSON would show it. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  try {
    const json = JSON.stringify(value);
    return json.length > 300 ? `${json.slice(0, 300)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

const tp = (topic: string, partition: number): string => `${topic}-${partition}`;

export const invalidTopic = (name: unknown, why: string): KafkaliteError =>
  new KafkaliteError('INVALID_TOPIC', `invalid topic name ${show(name)}: ${why}`, {
    topic: typeof name === 'string' ? name : undefined,
  });

export const topicExists = (topic: string): KafkaliteError =>
  new KafkaliteError('TOPIC_EXISTS', `topic ${show(topic)} already exists`, { topic });

export const unknownTopic = (topic: string, where = ''): KafkaliteError =>
  new KafkaliteError('UNKNOWN_TOPIC', `unknown topic ${show(topic)}${where}`, { topic });

export const invalidPartitions = (message: string, topic?: string): KafkaliteError =>
  new KafkaliteError('INVALID_PARTITIONS', message, { topic });

/** `creating`: the topic does not exist yet, and `count` is what the call would create it with. */
export const unknownPartition = (topic: string, partition: unknown, count: number, creating = false): KafkaliteError =>
  new KafkaliteError(
    'UNKNOWN_PARTITION',
    creating
      ? `topic ${show(topic)} does not exist, and created for this call it would have ${count} partition${count === 1 ? '' : 's'}: no partition ${show(partition)} (nothing was created)`
      : `topic ${show(topic)} has no partition ${show(partition)} (it has ${count}: 0 to ${count - 1})`,
    { topic, partition: typeof partition === 'number' ? partition : undefined },
  );

export const invalidConfig = (message: string, topic?: string): KafkaliteError =>
  new KafkaliteError('INVALID_CONFIG', message, { topic });

export const invalidArgument = (message: string, context: KafkaliteErrorOptions = {}): KafkaliteError =>
  new KafkaliteError('INVALID_ARGUMENT', message, context);

export const messageTooLarge = (topic: string, size: number, max: number): KafkaliteError =>
  new KafkaliteError(
    'MESSAGE_TOO_LARGE',
    `a message to topic ${show(topic)} takes ${size} bytes as a record batch, over the topic's maxMessageBytes (${max})`,
    { topic },
  );

export const offsetOutOfRange = (
  topic: string,
  partition: number,
  offset: number,
  start: number,
  end: number,
  why = "autoOffsetReset is 'none'",
): KafkaliteError =>
  new KafkaliteError('OFFSET_OUT_OF_RANGE', `offset ${offset} is out of range for ${tp(topic, partition)} (log holds ${start} to ${end}): ${why}`, {
    topic,
    partition,
    offset,
  });

export const notInGroup = (what: string): KafkaliteError =>
  new KafkaliteError('NOT_IN_GROUP', `${what} needs a consumer created with a groupId`);

export const groupNotEmpty = (groupId: string, state: string, what = 'have its offsets reset'): KafkaliteError =>
  new KafkaliteError('GROUP_NOT_EMPTY', `group ${show(groupId)} is ${state}; it can ${what} only while it is Empty`);

export const closed = (what: string): KafkaliteError => new KafkaliteError('CLOSED', `${what} is closed`);

export const storageLocked = (dir: string): KafkaliteError =>
  new KafkaliteError('STORAGE_LOCKED', `storage directory ${show(dir)} is held by another broker`);

/** `context`: the topic and partition of the log, and the offset the damage stands at, where known. */
export const storageCorrupt = (file: string, position: number, why: string, context: Pick<KafkaliteErrorOptions, 'topic' | 'partition' | 'offset'> = {}): KafkaliteError =>
  new KafkaliteError('STORAGE_CORRUPT', `${file} is damaged at byte ${position}: ${why}`, context);

export const unsupported = (what: string, why: string): KafkaliteError => new KafkaliteError('UNSUPPORTED', `${what} is not supported: ${why}`);

/** A serializer threw, rejected or gave something other than bytes: the whole `send` is refused. */
export const serializationFailed = (topic: string, what: string, cause: unknown): KafkaliteError =>
  new KafkaliteError('INVALID_ARGUMENT', `cannot serialize ${what} for topic ${show(topic)}: ${cause instanceof Error ? cause.message : show(cause)}`, {
    topic,
    cause,
  });

/** A deserializer threw or rejected on the record at `offset`. */
export const deserializationFailed = (topic: string, partition: number, offset: number, isKey: boolean, cause: unknown): KafkaliteError =>
  new KafkaliteError(
    'DESERIALIZATION_FAILED',
    `cannot deserialize the ${isKey ? 'key' : 'value'} of the record at offset ${offset} of ${tp(topic, partition)}: ${cause instanceof Error ? cause.message : show(cause)}`,
    { topic, partition, offset, cause },
  );

export const storageIo = (what: string, cause: unknown): KafkaliteError =>
  new KafkaliteError('STORAGE_IO', `${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    retriable: true,
  });

/** A schema the registry cannot parse as its type says (`type`: 'AVRO' or 'JSON'). */
export const invalidSchema = (type: string, schema: unknown, why: string): KafkaliteError =>
  new KafkaliteError('INVALID_SCHEMA', `invalid ${type} schema ${show(schema)}: ${why}`);

/** A schema that breaks its subject's compatibility level; `problems` say which version and why. */
export const incompatibleSchema = (subject: string, level: string, problems: readonly string[]): KafkaliteError =>
  new KafkaliteError('INCOMPATIBLE_SCHEMA', `schema for subject ${show(subject)} is incompatible under ${level}: ${problems.join('; ')} (nothing was registered)`);

/** A schema id, subject or version the registry does not hold. */
export const unknownSchema = (what: string): KafkaliteError => new KafkaliteError('UNKNOWN_SCHEMA', `${what} is not registered`);
/** An idempotent batch whose first sequence does not follow the last one the partition holds from its producer. */
export const outOfOrderSequence = (topic: string, partition: number, producerId: number, expected: number, got: number): KafkaliteError =>
  new KafkaliteError(
    'OUT_OF_ORDER_SEQUENCE',
    `producer ${producerId} sent a batch with sequence ${got} to ${tp(topic, partition)}, which expects sequence ${expected} from it next (a batch before it was lost)`,
    { topic, partition },
  );

/** A producer whose epoch is older than the newest one of its id (or transactional id): a newer producer took over. */
export const producerFenced = (who: string, epoch: number, current: number, context: Pick<KafkaliteErrorOptions, 'topic' | 'partition'> = {}): KafkaliteError =>
  new KafkaliteError('PRODUCER_FENCED', `${who} with epoch ${epoch} is fenced: a newer producer with epoch ${current} took over`, context);

/** A transactional call that does not fit the transaction's state (a send outside a transaction, a commit after a failed send). */
export const invalidTxnState = (message: string, cause?: unknown): KafkaliteError => new KafkaliteError('INVALID_TXN_STATE', message, { cause });

/** A Kafka broker could not be reached, or the connection to it broke (`cause`: the socket's error). Retriable: a new connection may work. */
export const networkError = (message: string, cause?: unknown): KafkaliteError => new KafkaliteError('NETWORK_ERROR', message, { cause, retriable: true });

/** A request to a Kafka broker got no response in time (the connection is closed with it: nothing behind it could be answered first). */
export const requestTimedOut = (what: string, address: string, ms: number): KafkaliteError =>
  new KafkaliteError('REQUEST_TIMED_OUT', `${what} to ${address} got no response within ${ms} ms`, { retriable: true });

/** A Kafka broker refused the SASL credentials, or could not prove it knows them (SCRAM's server signature). */
export const authenticationFailed = (address: string, mechanism: string, why: string): KafkaliteError =>
  new KafkaliteError('AUTHENTICATION_FAILED', `SASL ${mechanism} authentication to ${address} failed: ${why}`);

/** The cluster metadata names no leader for a partition (an election is under way, or the metadata is stale). */
export const leaderNotAvailable = (topic: string, partition: number): KafkaliteError =>
  new KafkaliteError('LEADER_NOT_AVAILABLE', `${tp(topic, partition)} has no leader in the cluster metadata (refresh it and try again)`, {
    topic,
    partition,
    retriable: true,
  });
