/**
 * KafkaJS' enumerations, as plain objects with a same-named type (the numbers are Kafka's own).
 * A value from KafkaJS' own enums is accepted wherever one of these types is expected, and the
 * other way round.
 */

import { KafkaJSNotImplemented } from './errors.js';

type ValueOf<T> = T[keyof T];

/** Log levels of `logLevel` / `logCreator`, as KafkaJS. */
export const logLevel = { NOTHING: 0, ERROR: 1, WARN: 2, INFO: 4, DEBUG: 5 } as const;
export type logLevel = ValueOf<typeof logLevel>;

/** Compression codecs of `send({ compression })`: each send's batches are compressed with it. */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionTypes = ValueOf<typeof CompressionTypes>;

/**
 * Codec registry, as KafkaJS': Snappy, LZ4 and ZSTD must be registered before a producer uses
 * them (`CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec`), else `send` rejects with
 * `KafkaJSNotImplemented`, as KafkaJS does. The batches are then compressed by kafkalite's own
 * codec of that type — the same stream format (Kafka's), so any reader decodes them — which needs
 * its optional package (docs/schemas.md); consumers decode every codec without registration.
 */
export const CompressionCodecs: { [type: number]: () => unknown } = {
  [CompressionTypes.GZIP]: () => ({ name: 'gzip (built in)' }),
  [CompressionTypes.Snappy]: () => {
    throw new KafkaJSNotImplemented('Snappy compression not implemented');
  },
  [CompressionTypes.LZ4]: () => {
    throw new KafkaJSNotImplemented('LZ4 compression not implemented');
  },
  [CompressionTypes.ZSTD]: () => {
    throw new KafkaJSNotImplemented('ZSTD compression not implemented');
  },
};

export const ConfigResourceTypes = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;
export type ConfigResourceTypes = ValueOf<typeof ConfigResourceTypes>;

export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;
export type ConfigSource = ValueOf<typeof ConfigSource>;

export const AclResourceTypes = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
} as const;
export type AclResourceTypes = ValueOf<typeof AclResourceTypes>;

export const AclOperationTypes = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const;
export type AclOperationTypes = ValueOf<typeof AclOperationTypes>;

export const AclPermissionTypes = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;
export type AclPermissionTypes = ValueOf<typeof AclPermissionTypes>;

export const ResourcePatternTypes = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export type ResourcePatternTypes = ValueOf<typeof ResourcePatternTypes>;

/** Kafka's special offsets, as KafkaJS passes them to `seek` and `setOffsets`. */
export const EARLIEST_OFFSET = -2;
export const LATEST_OFFSET = -1;

/** The node id of the one in-process broker, in metadata and events. */
export const NODE_ID = 0;
