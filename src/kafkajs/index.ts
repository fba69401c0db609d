/**
 * kafkalite/kafkajs — KafkaJS 2.x' API on kafkalite's in-process broker. Existing KafkaJS code runs
 * unchanged against it: swap the import (`import { Kafka } from 'kafkalite/kafkajs'`) or mock the
 * module (`vi.mock('kafkajs', () => import('kafkalite/kafkajs'))`). See docs/kafkajs.md.
 *
 * Everything KafkaJS' `kafkajs` module exports is exported here under the same name, plus the
 * cluster controls for tests: `resetCluster`, `closeAllClusters`, `getBroker`, `attachBroker`.
 */

export { Kafka } from './kafka.js';
export { Partitioners } from './partitioners.js';
export { PartitionAssigners } from './assigners.js';
export { AssignerProtocol } from './assigner-protocol.js';
export {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  CompressionCodecs,
  CompressionTypes,
  ConfigResourceTypes,
  ConfigSource,
  ResourcePatternTypes,
  logLevel,
} from './constants.js';
export {
  KafkaJSAggregateError,
  KafkaJSAlterPartitionReassignmentsError,
  KafkaJSBrokerNotFound,
  KafkaJSConnectionClosedError,
  KafkaJSConnectionError,
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  KafkaJSDeleteTopicRecordsError,
  KafkaJSError,
  KafkaJSFetcherRebalanceError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSInvalidLongError,
  KafkaJSInvalidVarIntError,
  KafkaJSInvariantViolation,
  KafkaJSLockTimeout,
  KafkaJSMemberIdRequired,
  KafkaJSMetadataNotLoaded,
  KafkaJSNoBrokerAvailableError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSOffsetOutOfRange,
  KafkaJSPartialMessageError,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
  KafkaJSServerDoesNotSupportApiKey,
  KafkaJSStaleTopicMetadataAssignment,
  KafkaJSTimeout,
  KafkaJSTopicMetadataNotLoaded,
  KafkaJSUnsupportedMagicByteInMessageSet,
} from './errors.js';
export { attachBroker, closeAllClusters, getBroker, resetCluster } from './cluster-registry.js';
export type { ClusterTarget } from './cluster-registry.js';
export type * from './types.js';
