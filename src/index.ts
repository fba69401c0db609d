/**
 * kafkalite — Apache Kafka's model in one Node.js process. Everything public is named here;
 * nothing else is part of the API.
 */
export { Broker } from './broker/broker.js';
export type { BrokerOptions } from './broker/broker-options.js';
export type { ConnectOptions } from './broker/connect-options.js';
export type { SaslOptions } from './remote/remote-options.js';
export type { ListenOptions, SaslMechanism } from './wire/listen-options.js';
export type { Listener } from './wire/listener.js';
export { ManualClock, SystemClock } from './clock.js';
export type { Clock, ClockTimer } from './clock.js';
export type { LogFields, Logger } from './logger.js';
export { Producer } from './client/producer.js';
export { Transaction, type SendOffsetsRequest } from './client/transaction.js';
export type { PartitionerFunction, ProducerOptions } from './client/producer-options.js';
export { Consumer } from './client/consumer.js';
export type { ConsumerEvents, EachBatchPayload, EachMessagePayload, RunOptions } from './client/consumer.js';
export type { AssignorName, AutoOffsetReset, ConsumerOptions } from './client/consumer-options.js';
export type { IsolationLevel } from './seam/kafka-api.js';
export type { AssignorFunction } from './seam/kafka-api.js';
export type { AssignorMember, MemberShare, PartitionAssignor } from './client/partition-assignor.js';
export type { GroupJoin } from './client/classic-member.js';
export { serde } from './serde/index.js';
export type { Deserializer, Serde, SerdeContext, Serializer } from './serde/index.js';
export { ErrorCodes, KafkaliteError } from './errors.js';
export type { KafkaliteErrorOptions } from './errors.js';
export type { ConsumerGroup, GroupLag } from './group/consumer-group.js';
export type { GroupStateName } from './group/group-state.js';
export type { ErrorCode } from './errors.js';
export type { AvroSerdeOptions } from './serde/avro.js';
export { SchemaRegistry } from './schema/schema-registry.js';
export type { CompatibilityCheckOptions, CompatibilityResult, RegisteredSchema, RegisterOptions, SubjectSchema } from './schema/schema-registry.js';
export type { RegistryListenOptions, SchemaRegistryOptions } from './schema/registry-options.js';
export type { RegistryListener } from './schema/rest-server.js';
export type { CompatibilityLevel } from './schema/compatibility.js';
export type { SchemaType } from './schema/parsed-schema.js';
export { MemoryStorage } from './storage/memory/memory-storage.js';
export { FileStorage } from './storage/fs/fs-storage.js';
export type { FileStorageOptions } from './storage/fs/fs-storage.js';
export type { FsyncMode } from './storage/fs/file-log.js';
export type { FileSystem } from './storage/fs/file-system.js';
export type { AbortedTransaction, AbortedTransactionEntry, CleanPolicy, CleanResult, MaybePromise, PartitionLog, RetentionPolicy, Storage, StorageContext, StoredTopic } from './storage/storage.js';
export type { Partition } from './topic/partition.js';
export type { Topic } from './topic/topic.js';
export type { TopicConfigChanges } from './topic/topic-config.js';
export { partitionForKey } from './topic/partitioner.js';
export {
  RECORD_BATCH_HEADER_SIZE,
  RecordBatchBuilder,
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchRecordCount,
  batchSize,
  checkBatch,
  decodeRecordBatch,
  readBatchHeader,
} from './codec/record-batch.js';
export type { DecodedRecord, HeadersInput, RecordBatchHeader, RecordHeaders } from './codec/record-batch.js';
export { crc32c } from './codec/crc32c.js';
export { murmur2 } from './codec/murmur2.js';
export type {
  CleanupPolicy,
  ConsumerRecord,
  Message,
  RecordMetadata,
  ResolvedTopicConfig,
  TopicConfig,
  TopicMessages,
  TopicPartition,
  TopicPartitionOffset,
} from './types.js';
