/**
 * A KafkaJS consumer's membership for one `run()` session: the kafkalite consumer that is the
 * group member (Kafka's classic protocol, the KafkaJS assigners run by the group's leader, KafkaJS'
 * `fromBeginning` as a reset policy per topic, no auto-commit: the runner commits as KafkaJS
 * does), and KafkaJS' view of it — GROUP_JOIN after every join round, REBALANCING, HEARTBEAT,
 * COMMIT_OFFSETS, the member id and generation, what describeGroups shows of the member.
 *
 * Concurrency: the kafkalite consumer's events arrive from its own loop at any time; `commit`,
 * `heartbeat` and `close` may be called at any time (`close` is idempotent).
 */

import type { Clock, Consumer as CoreConsumer, GroupJoin, IsolationLevel, TopicPartition } from '../index.js';
import { toPartitionAssignor } from './assigner-adapter.js';
import type { Cluster } from './cluster.js';
import { isCoreError, kafkaJSErrors } from './errors.js';
import { consumerEvents, type Instrumentation } from './instrumentation.js';
import type { Assigner, ConsumerEvents, IMemberAssignment, Logger, TopicOffsets } from './types.js';

export interface GroupSessionOptions {
  cluster: Cluster;
  groupId: string;
  /** The KafkaJS clientId (member ids are `<clientId>-<uuid>`, as Kafka makes them). */
  clientId: string;
  topics: ReadonlyMap<string, { fromBeginning: boolean }>;
  /** In order of preference. */
  assigners: readonly Assigner[];
  sessionTimeout: number;
  rebalanceTimeout: number;
  heartbeatInterval: number;
  isolationLevel: IsolationLevel;
  instrumentation: Instrumentation<ConsumerEvents>;
  logger: Logger;
  /** Partitions taken (positions fixed), before GROUP_JOIN. */
  onAssigned(partitions: TopicPartition[]): void;
  /** Partitions given up. */
  onRevoked(partitions: TopicPartition[]): void;
}

/** A run session's group membership; see the file comment (concurrency included). */
export class GroupSession {
  /** The group member: the runner polls, seeks and pauses it. */
  readonly core: CoreConsumer;
  /** The cluster broker's clock. */
  readonly clock: Clock;
  #o: GroupSessionOptions;
  #memberId = '';
  #generationId = -1;
  /** When the join in progress began (the session's start, or the rebalance's), for GROUP_JOIN's duration. */
  #joinStarted: number;
  #rebalancing = false;
  #lastHeartbeat = -Infinity;
  #closing: Promise<void> | undefined;

  constructor(options: GroupSessionOptions) {
    this.#o = options;
    const { cluster, topics } = options;
    this.clock = cluster.broker.clock;
    this.#joinStarted = this.clock.now();
    const metadata = new Map<string, Buffer>();
    const subscribed = [...topics.keys()];
    this.core = cluster.broker.consumer({
      groupId: options.groupId,
      clientId: options.clientId,
      groupProtocol: 'classic',
      assignor: options.assigners.map((assigner) =>
        toPartitionAssignor(assigner, {
          topics: () => subscribed,
          logger: options.logger,
          onMetadata: (name, bytes) => metadata.set(name, bytes),
          onAssignment: (memberId, bytes) => options.cluster.assignmentBytes.set(memberId, bytes),
        }),
      ),
      // KafkaJS' fromBeginning, per subscription: where a partition without a committed offset
      // starts, and where one whose offset fell out of the log goes.
      autoOffsetReset: 'latest',
      autoOffsetResetByTopic: Object.fromEntries([...topics].map(([topic, { fromBeginning }]) => [topic, fromBeginning ? 'earliest' : 'latest'])),
      autoCommit: false,
      sessionTimeoutMs: options.sessionTimeout,
      // kafkalite removes a member that does not come back to poll: a fetch's batches may take this long.
      maxPollIntervalMs: Math.max(options.rebalanceTimeout, 300_000),
      maxPollRecords: 10_000,
      isolationLevel: options.isolationLevel,
    });
    this.core.on('partitionsAssigned', (tps) => options.onAssigned(tps));
    this.core.on('partitionsRevoked', (tps) => this.#onRevoked(tps));
    this.core.on('groupJoin', (join) => this.#onGroupJoin(join, subscribed, metadata));
    this.core.on('error', (error) => {
      if (!isCoreError(error, 'CLOSED')) options.logger.warn(`Group membership: ${error instanceof Error ? error.message : String(error)}`, { groupId: options.groupId });
    });
  }

  /** This member's id in its group ('' before it joined). */
  get memberId(): string {
    return this.core.memberId ?? this.#memberId;
  }

  /** Joins the group; resolves once this member holds its partitions, positions fixed (GROUP_JOIN came first). */
  async join(): Promise<void> {
    if (this.#o.topics.size === 0) return;
    // A join the core keeps retrying (an assigner that throws, say) fails the join here at once: the
    // runner crashes and restarts as KafkaJS' does, instead of waiting on a join that never ends.
    let onError: (error: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      onError = (error) => {
        if (!isCoreError(error, 'CLOSED')) reject(error);
      };
    });
    this.core.on('error', onError);
    try {
      await Promise.race([this.core.subscribe([...this.#o.topics.keys()]), failed]);
    } finally {
      this.core.off('error', onError);
    }
  }

  /** Commits offsets (KafkaJS' strings) and reports COMMIT_OFFSETS. */
  async commit(topics: TopicOffsets[]): Promise<void> {
    const offsets = topics.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset: Number(offset) })));
    await kafkaJSErrors(() => this.core.commit(offsets));
    this.#emit(consumerEvents.COMMIT_OFFSETS, { groupId: this.#o.groupId, memberId: this.memberId, groupGenerationId: this.#generationId, topics });
  }

  /** KafkaJS' heartbeat: the HEARTBEAT event, at most every `heartbeatInterval` (kafkalite keeps the membership alive itself). */
  heartbeat(): void {
    const now = this.clock.now();
    if (now < this.#lastHeartbeat + this.#o.heartbeatInterval) return;
    this.#lastHeartbeat = now;
    this.#emit(consumerEvents.HEARTBEAT, { groupId: this.#o.groupId, memberId: this.memberId, groupGenerationId: this.#generationId });
  }

  /** Leaves the group (the kafkalite consumer closes; nothing is committed: the runner did). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.core.close().catch(() => undefined);
      this.#o.cluster.members.delete(this.#memberId);
      this.#o.cluster.assignmentBytes.delete(this.#memberId);
    })();
    return this.#closing;
  }

  #onRevoked(partitions: TopicPartition[]): void {
    if (!this.#rebalancing && this.#closing === undefined) {
      this.#rebalancing = true;
      this.#joinStarted = this.clock.now();
      this.#emit(consumerEvents.REBALANCING, { groupId: this.#o.groupId, memberId: this.memberId });
    }
    this.#o.onRevoked(partitions);
  }

  /** A JoinGroup/SyncGroup round completed: KafkaJS' GROUP_JOIN, once positions are fixed. */
  #onGroupJoin(join: GroupJoin, topics: string[], metadata: ReadonlyMap<string, Buffer>): void {
    const members = this.#o.cluster.members;
    if (this.#memberId !== join.memberId) {
      // A removed member joined again under a new id.
      members.delete(this.#memberId);
      this.#o.cluster.assignmentBytes.delete(this.#memberId);
    }
    this.#memberId = join.memberId;
    this.#generationId = join.generationId;
    members.set(join.memberId, { clientId: this.#o.clientId, topics, protocol: join.protocol, metadata: metadata.get(join.protocol) });
    const memberAssignment: IMemberAssignment = {};
    for (const { topic, partition } of join.assignment) (memberAssignment[topic] ??= []).push(partition);
    for (const list of Object.values(memberAssignment)) list.sort((a, b) => a - b);
    const payload = {
      groupId: this.#o.groupId,
      memberId: join.memberId,
      leaderId: join.leaderId,
      isLeader: join.memberId === join.leaderId,
      memberAssignment,
      groupProtocol: join.protocol,
      duration: this.clock.now() - this.#joinStarted,
    };
    this.#rebalancing = false;
    this.#joinStarted = this.clock.now();
    this.#emit(consumerEvents.GROUP_JOIN, payload);
    this.#o.logger.info('Consumer has joined the group', payload);
  }

  #emit(type: ConsumerEvents[keyof ConsumerEvents], payload: unknown): void {
    this.#o.instrumentation.emit(type, payload);
  }
}
