/**
 * One `consumer.run()` session: a member of the group (a kafkalite consumer in poll mode, without
 * auto-commit) and the loop that fetches, hands batches to `eachMessage` / `eachBatch`, resolves
 * and commits offsets, applies seeks and pauses, and retries a failing handler, as KafkaJS' runner
 * does.
 *
 * Positions: kafkalite moves a partition's position past every record a poll returns. KafkaJS
 * fetches from the resolved offset instead, so after each batch the position is moved back to the
 * resolved offset when not everything was processed (a handler failed, paused, seeked or stopped,
 * or `eachBatch` left offsets unresolved). A pending seek decides the position of its partition.
 *
 * Hand-over: kafkalite gives a partition up only when the member polls again, so every batch of
 * the last fetch is processed (and, with `autoCommit`, committed) before a rebalance moves it.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { ConsumerRecord, Consumer as CoreConsumer, TopicPartition as CoreTopicPartition } from '../index.js';
import { tpKey } from '../types.js';
import { ROUND_ROBIN_PROTOCOL } from './assigners.js';
import { LiteBatch } from './batch.js';
import type { Cluster } from './cluster.js';
import { EARLIEST_OFFSET, LATEST_OFFSET, NODE_ID } from './constants.js';
import {
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  isCoreError,
  kafkaJSErrors,
  toKafkaJSError,
} from './errors.js';
import { consumerEvents, type Instrumentation } from './instrumentation.js';
import { OffsetTracker } from './offset-tracker.js';
import { PauseState } from './pause-state.js';
import { isRetriable, retryTime, type ResolvedRetry } from './retry.js';
import type {
  ConsumerEvents,
  EachBatchHandler,
  EachMessageHandler,
  IMemberAssignment,
  Logger,
  TopicOffsets,
  TopicPartitions,
} from './types.js';

export interface RunnerOptions {
  /** The cluster to join (resolved when the runner starts). */
  cluster: () => Promise<Cluster>;
  groupId: string;
  /** The KafkaJS clientId. */
  clientId: string;
  topics: ReadonlyMap<string, { fromBeginning: boolean }>;
  sessionTimeout: number;
  rebalanceTimeout: number;
  heartbeatInterval: number;
  maxWaitTimeInMs: number;
  retry: ResolvedRetry;
  autoCommit: boolean;
  autoCommitInterval: number | null;
  autoCommitThreshold: number | null;
  eachBatchAutoResolve: boolean;
  concurrency: number;
  eachMessage: EachMessageHandler | undefined;
  eachBatch: EachBatchHandler | undefined;
  instrumentation: Instrumentation<ConsumerEvents>;
  logger: Logger;
  /** The runner stopped on its own: it crashed (`error`), or its cluster went away. It has left its group. */
  onEnd(end: { error?: Error; retryTime?: number }): void;
}

/** Which runner's handler is on the stack: `stop()` from inside a handler must not wait for it. */
const handlerScope = new AsyncLocalStorage<Runner>();


export class Runner {
  #o: RunnerOptions;
  #cluster: Cluster | undefined;
  #core: CoreConsumer | undefined;
  /** The unique client id the member carries in kafkalite (KafkaJS' clientId plus a UUID). */
  #coreClientId: string;
  #running = false;
  #joined = false;
  #phase: 'idle' | 'poll' | 'process' = 'idle';
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #pauses = new PauseState();
  #seeks = new Map<string, { topic: string; partition: number; offset: string }>();
  #offsets = new OffsetTracker();
  #pending = new Set<Promise<void>>();
  #failures = 0;
  #lastHeartbeat = 0;
  #rebalanceStarted: number | undefined;
  #wake: (() => void) | undefined;
  #end: { error?: Error; retryTime?: number } | undefined;
  #finished = false;
  #onFinished: (() => void)[] = [];
  #logger: Logger;

  constructor(options: RunnerOptions) {
    this.#o = options;
    this.#coreClientId = `${options.clientId}-${randomUUID()}`;
    this.#logger = options.logger.namespace('Runner');
  }

  get running(): boolean {
    return this.#running;
  }

  /** Resolves once the runner has left its group (after `stop`, a crash, or its cluster closing). */
  get finished(): Promise<void> {
    return this.#closing ?? new Promise<void>((resolve) => this.#onFinished.push(resolve));
  }

  /** Whether the runner has left its group. */
  get isFinished(): boolean {
    return this.#finished;
  }

  /** This member's id in its group ('' before it joined). */
  get memberId(): string {
    const member = this.#cluster?.broker.group(this.#o.groupId).members().find((m) => m.clientId === this.#coreClientId);
    return member?.memberId ?? '';
  }

  /** Joins the group and starts consuming; resolves once this member holds its partitions, positions fixed. */
  async start(): Promise<void> {
    const o = this.#o;
    const topics = [...o.topics.keys()];
    const started = Date.now();
    const cluster = await kafkaJSErrors(() => o.cluster());
    if (this.#stopping !== undefined) return; // stopped before it started
    this.#cluster = cluster;
    cluster.members.set(this.#coreClientId, { clientId: o.clientId, topics, protocol: ROUND_ROBIN_PROTOCOL });
    const core = cluster.broker.consumer({
      groupId: o.groupId,
      clientId: this.#coreClientId,
      // Positions without a committed offset are fixed here, per topic (KafkaJS' fromBeginning).
      autoOffsetReset: 'none',
      autoCommit: false,
      sessionTimeoutMs: o.sessionTimeout,
      maxPollIntervalMs: Math.max(o.rebalanceTimeout, 300_000),
      maxPollRecords: 10_000,
      assignor: 'roundrobin',
    });
    this.#core = core;
    core.on('partitionsAssigned', (tps) => this.#onAssigned(tps));
    core.on('partitionsRevoked', (tps) => this.#onRevoked(tps));
    core.on('error', (error) => {
      if (!isCoreError(error, 'CLOSED')) this.#logger.warn(`Group membership: ${error instanceof Error ? error.message : String(error)}`, { groupId: o.groupId });
    });
    this.#running = true;
    try {
      if (topics.length > 0) await core.subscribe(topics);
      await this.#settle();
    } catch (error) {
      this.#running = false;
      await this.#closeCore();
      if (this.#stopping !== undefined) return; // stopped while joining
      throw toKafkaJSError(error);
    }
    this.#joined = true;
    this.#emitGroupJoin(started);
    if (o.eachMessage !== undefined || o.eachBatch !== undefined) this.#loop = this.#run();
  }

  /** Stops fetching, lets the handler running finish, commits (with autoCommit) and leaves the group. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#running = false;
      this.#wake?.();
      if (this.#phase === 'poll') {
        // Nothing in flight: leave now, which ends the waiting fetch. kafkalite's close() wakes a
        // poll only once its fetch waits (a wake while it still fixes positions is lost), so let
        // the poll get there first.
        await new Promise((resolve) => setImmediate(resolve));
        await this.#closeCore();
      } else if (this.#phase === 'idle') {
        await this.#closeCore();
      }
      if (handlerScope.getStore() === this) {
        // Called from a handler: it cannot wait for itself. The loop closes once the handler returns.
        void this.#loop?.catch(() => undefined).then(() => this.#closeCore());
        return;
      }
      await this.#loop?.catch(() => undefined);
      await this.#closeCore();
    })();
    return this.#stopping;
  }

  // -------------------------------------------------------------------------------------------
  // The loop

  async #run(): Promise<void> {
    const core = this.#core!;
    while (this.#running) {
      try {
        await this.#applySeeks();
        if (!this.#running) break;
        const started = Date.now();
        this.#emit(consumerEvents.FETCH_START, { nodeId: NODE_ID });
        let records: ConsumerRecord[];
        this.#phase = 'poll';
        try {
          records = await core.poll({ timeoutMs: this.#o.maxWaitTimeInMs });
        } finally {
          this.#phase = 'process';
        }
        if (!this.#running) break;
        if (!this.#cluster!.isOpen()) {
          this.#abandon(); // records a closing poll returned are not handed out
          break;
        }
        this.#emit(consumerEvents.FETCH, { numberOfBatches: 0, duration: Date.now() - started, nodeId: NODE_ID });
        const batches = this.#batches(records);
        if (batches.length === 0) {
          await this.#heartbeat();
          continue;
        }
        await this.#processAll(batches);
        this.#failures = 0;
      } catch (error) {
        if (!this.#running) break;
        if (isCoreError(error, 'OFFSET_OUT_OF_RANGE') && error.topic !== undefined && error.partition !== undefined) {
          // No committed offset, or the position fell out of the log: start per the topic's fromBeginning.
          await this.#resetTo({ topic: error.topic, partition: error.partition }).catch((e: unknown) => this.#failed(e));
          continue;
        }
        if (isCoreError(error, 'CLOSED') || !this.#cluster!.isOpen()) {
          this.#abandon();
          break;
        }
        if (isCoreError(error, 'NOT_IN_GROUP') || (error instanceof KafkaJSProtocolError && error.type === 'UNKNOWN_MEMBER_ID')) {
          // The member was removed (it let its session or poll interval lapse): kafkalite rejoins it
          // at the next fetch, and what it had not committed is delivered again, as after KafkaJS' rejoin.
          this.#logger.warn('The coordinator is not aware of this member, re-joining the group', { groupId: this.#o.groupId });
          continue;
        }
        if (!(await this.#retryOrCrash(error))) break;
      }
    }
    this.#phase = 'idle';
    if (this.#end !== undefined) {
      await this.#closeCore();
      this.#o.onEnd(this.#end);
    }
  }

  /** The cluster was reset or closed under the running consumer: it stops, without a crash or restart. */
  #abandon(): void {
    this.#logger.warn('The in-process cluster was closed under a running consumer; it stops', { groupId: this.#o.groupId });
    this.#running = false;
    this.#end = {};
  }

  /** The records of one poll, one batch per partition, in the order they came. */
  #batches(records: ConsumerRecord[]): LiteBatch[] {
    const byPartition = new Map<string, ConsumerRecord[]>();
    for (const r of records) {
      const k = tpKey(r.topic, r.partition);
      const list = byPartition.get(k);
      if (list === undefined) byPartition.set(k, [r]);
      else list.push(r);
    }
    return [...byPartition.values()].map((list) => {
      const { topic, partition } = list[0]!;
      let highWatermark = list[list.length - 1]!.offset + 1;
      try {
        highWatermark = this.#cluster!.broker.topic(topic).partition(partition).logEndOffset;
      } catch {
        // the topic went away: the batch's own end stands in for the high watermark
      }
      return new LiteBatch(topic, partition, list, highWatermark);
    });
  }

  /** Handles the batches, `partitionsConsumedConcurrently` at a time; the first failure is thrown after all stop. */
  async #processAll(batches: LiteBatch[]): Promise<void> {
    const queue = [...batches];
    let failure: { error: unknown } | undefined;
    const work = async (): Promise<void> => {
      for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
        if (failure !== undefined || !this.#running) {
          this.#rewind(batch);
          continue;
        }
        try {
          await this.#handleBatch(batch);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    const workers = Math.max(1, Math.min(this.#o.concurrency, batches.length));
    await Promise.all(Array.from({ length: workers }, work));
    if (failure !== undefined) throw failure.error;
  }

  async #handleBatch(batch: LiteBatch): Promise<void> {
    const { topic, partition } = batch;
    try {
      if (this.#pauses.isPaused(topic, partition) || this.#seeks.has(tpKey(topic, partition))) return;
      this.#offsets.baseline(topic, partition, Number(batch.fetchedOffset));
      const started = Date.now();
      const info = batch.describe();
      this.#emit(consumerEvents.START_BATCH_PROCESS, info);
      if (this.#o.eachMessage !== undefined) await this.#eachMessage(batch, this.#o.eachMessage);
      else if (this.#o.eachBatch !== undefined) await this.#eachBatch(batch, this.#o.eachBatch);
      this.#emit(consumerEvents.END_BATCH_PROCESS, { ...info, duration: Date.now() - started });
      await this.#autoCommit();
      await this.#heartbeat();
    } finally {
      this.#rewind(batch);
    }
  }

  async #eachMessage(batch: LiteBatch, eachMessage: EachMessageHandler): Promise<void> {
    const { topic, partition } = batch;
    const pause = this.#pauser(topic, partition);
    const heartbeat = (): Promise<void> => this.#heartbeat();
    for (const message of batch.messages) {
      if (!this.#running || this.#seeks.has(tpKey(topic, partition))) break;
      try {
        await handlerScope.run(this, () => eachMessage({ topic, partition, message, heartbeat, pause }));
      } catch (error) {
        if (!(error instanceof KafkaJSError)) {
          this.#logger.error('Error when calling eachMessage', { topic, partition, offset: message.offset, stack: (error as Error)?.stack, error });
        }
        await this.#autoCommit().catch((e: unknown) => this.#failed(e));
        throw error;
      }
      this.#offsets.resolve(topic, partition, Number(message.offset));
      await this.#heartbeat();
      await this.#autoCommitIfNecessary();
      if (this.#pauses.isPaused(topic, partition)) break;
    }
  }

  async #eachBatch(batch: LiteBatch, eachBatch: EachBatchHandler): Promise<void> {
    const { topic, partition } = batch;
    try {
      await handlerScope.run(this, () =>
        eachBatch({
          batch,
          resolveOffset: (offset: string) => this.#offsets.resolve(topic, partition, Number(offset)),
          heartbeat: () => this.#heartbeat(),
          pause: this.#pauser(topic, partition),
          commitOffsetsIfNecessary: (offsets) => (offsets ? this.#commit(offsets.topics) : this.#commitIfNecessary()),
          uncommittedOffsets: () => this.#offsets.uncommitted(),
          isRunning: () => this.#running,
          isStale: () => this.#seeks.has(tpKey(topic, partition)),
        }),
      );
    } catch (error) {
      if (!(error instanceof KafkaJSError)) {
        this.#logger.error('Error when calling eachBatch', { topic, partition, offset: batch.firstOffset(), stack: (error as Error)?.stack, error });
      }
      await this.#autoCommit().catch((e: unknown) => this.#failed(e));
      throw error;
    }
    if (this.#o.eachBatchAutoResolve) this.#offsets.resolve(topic, partition, Number(batch.lastOffset()));
  }

  /** After a batch: the next fetch of its partition starts at the resolved offset, as in KafkaJS. */
  #rewind(batch: LiteBatch): void {
    const { topic, partition } = batch;
    if (this.#seeks.has(tpKey(topic, partition))) return; // the seek decides
    const next = this.#offsets.resolved(topic, partition) ?? Number(batch.fetchedOffset);
    if (next === Number(batch.lastOffset()) + 1) return;
    try {
      this.#core?.seek({ topic, partition, offset: next });
    } catch {
      // revoked or closed meanwhile: nothing to move
    }
  }

  /** A failed batch: retry after KafkaJS' backoff, or crash once the retries are spent. Returns whether to go on. */
  async #retryOrCrash(raw: unknown): Promise<boolean> {
    const mapped = toKafkaJSError(raw);
    const error = mapped instanceof Error ? mapped : new KafkaJSError(String(mapped));
    const retry = this.#o.retry;
    const wait = retryTime(retry, this.#failures);
    if (isRetriable(error) && this.#failures < retry.retries) {
      this.#failures++;
      this.#logger.debug('Error while consuming, trying again...', { groupId: this.#o.groupId, error: error.message, retryCount: this.#failures, retryTime: wait });
      await this.#sleep(wait);
      return this.#running;
    }
    this.#running = false;
    this.#end = {
      error: isRetriable(error)
        ? new KafkaJSNumberOfRetriesExceeded(error, { retryCount: this.#failures, retryTime: wait })
        : new KafkaJSNonRetriableError(error, { cause: error }),
      retryTime: wait,
    };
    return false;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Offsets

  async #autoCommit(): Promise<void> {
    if (this.#o.autoCommit) await this.#commit();
  }

  async #autoCommitIfNecessary(): Promise<void> {
    if (this.#o.autoCommit) await this.#commitIfNecessary();
  }

  /** Commits the resolved offsets when `autoCommitInterval` has passed or `autoCommitThreshold` is reached. */
  async #commitIfNecessary(): Promise<void> {
    const { autoCommitInterval, autoCommitThreshold } = this.#o;
    const timeUp = autoCommitInterval != null && Date.now() >= this.#offsets.lastCommit + autoCommitInterval;
    const enough = autoCommitThreshold != null && this.#offsets.countResolved() >= autoCommitThreshold;
    if (timeUp || enough) await this.#commit();
  }

  /** Commits the given offsets, or every resolved offset not committed yet. */
  async #commit(topics: TopicOffsets[] = this.#offsets.uncommitted().topics): Promise<void> {
    if (topics.length === 0) {
      this.#offsets.lastCommit = Date.now();
      return;
    }
    const normalized = topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map(({ partition, offset }) => ({ partition, offset: String(offset) })),
    }));
    const offsets = normalized.flatMap(({ topic, partitions }) => partitions.map(({ partition, offset }) => ({ topic, partition, offset: Number(offset) })));
    await kafkaJSErrors(() => this.#core!.commit(offsets));
    this.#emit(consumerEvents.COMMIT_OFFSETS, {
      groupId: this.#o.groupId,
      memberId: this.memberId,
      groupGenerationId: this.#generation(),
      topics: normalized,
    });
    this.#offsets.markCommitted(normalized);
  }

  /** `consumer.commitOffsets` and `eachBatch`'s `commitOffsetsIfNecessary(offsets)`. */
  async commitOffsets(topics: TopicOffsets[]): Promise<void> {
    if (!this.#running) return;
    await this.#commit(topics);
  }

  // -------------------------------------------------------------------------------------------
  // Seek and pause

  /** Moves a partition's next fetch to `offset` (a string; `-2` earliest, `-1` latest), as KafkaJS' seek. */
  seek(topic: string, partition: number, offset: string): void {
    const entry = { topic, partition, offset };
    this.#seeks.set(tpKey(topic, partition), entry);
    if (this.#isAssigned(topic, partition)) this.#seekCore(entry);
  }

  #seekCore(entry: { topic: string; partition: number; offset: string }): void {
    const { topic, partition } = entry;
    const n = Number(entry.offset);
    try {
      if (n === EARLIEST_OFFSET || n === LATEST_OFFSET) {
        // The log's start or end is looked up now, once: a record appended later is not skipped.
        this.#track(
          (async () => {
            await this.#seekToSafely({ topic, partition }, n === EARLIEST_OFFSET);
            const position = this.#position(topic, partition);
            if (this.#seeks.get(tpKey(topic, partition)) === entry && position !== undefined) entry.offset = String(position);
          })(),
        );
      } else {
        this.#core?.seek({ topic, partition, offset: n });
      }
    } catch (error) {
      this.#failed(error);
    }
  }

  /** Before each fetch: seeks on assigned partitions take effect; with autoCommit the offset is committed, as KafkaJS does. */
  async #applySeeks(): Promise<void> {
    await this.#settle();
    for (const [k, entry] of [...this.#seeks]) {
      const { topic, partition } = entry;
      if (!this.#isAssigned(topic, partition)) continue; // kept until the partition is assigned
      this.#seeks.delete(k);
      const n = Number(entry.offset);
      let offset = n;
      if (n === EARLIEST_OFFSET || n === LATEST_OFFSET) {
        await this.#seekToSafely({ topic, partition }, n === EARLIEST_OFFSET);
        const position = this.#position(topic, partition);
        if (position === undefined) continue; // revoked meanwhile
        offset = position;
      } else {
        this.#core!.seek({ topic, partition, offset: n });
      }
      if (this.#o.autoCommit) {
        await kafkaJSErrors(() => this.#core!.commit([{ topic, partition, offset }]));
        this.#offsets.seeked(topic, partition, offset);
      } else {
        this.#offsets.setNext(topic, partition, offset);
      }
    }
  }

  pause(topicPartitions: { topic: string; partitions?: number[] }[]): void {
    this.#pauses.pause(topicPartitions);
    this.#syncPauses();
  }

  resume(topicPartitions: { topic: string; partitions?: number[] }[]): void {
    this.#pauses.resume(topicPartitions);
    this.#syncPauses();
  }

  /** Assigned partitions that are paused, per topic. */
  paused(): TopicPartitions[] {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of this.#assignment()) {
      if (this.#pauses.isPaused(topic, partition)) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
  }

  #pauser(topic: string, partition: number): () => () => void {
    return () => {
      this.pause([{ topic, partitions: [partition] }]);
      return () => this.resume([{ topic, partitions: [partition] }]);
    };
  }

  /** Makes kafkalite's pauses match KafkaJS' pause state on the assigned partitions. */
  #syncPauses(): void {
    const core = this.#core;
    if (core === undefined) return;
    try {
      const paused = new Set(core.paused().map((tp) => tpKey(tp.topic, tp.partition)));
      const pause: CoreTopicPartition[] = [];
      const resume: CoreTopicPartition[] = [];
      for (const tp of core.assignment()) {
        const want = this.#pauses.isPaused(tp.topic, tp.partition);
        const has = paused.has(tpKey(tp.topic, tp.partition));
        if (want && !has) pause.push(tp);
        if (!want && has) resume.push(tp);
      }
      if (pause.length > 0) core.pause(pause);
      if (resume.length > 0) core.resume(resume);
    } catch (error) {
      if (!isCoreError(error, 'CLOSED')) throw toKafkaJSError(error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Group membership

  #onAssigned(partitions: CoreTopicPartition[]): void {
    this.#syncPauses();
    const unpositioned: CoreTopicPartition[] = [];
    for (const tp of partitions) {
      const seek = this.#seeks.get(tpKey(tp.topic, tp.partition));
      if (seek !== undefined) this.#seekCore(seek);
      else if (this.#position(tp.topic, tp.partition) === undefined) unpositioned.push(tp); // nothing committed
    }
    if (unpositioned.length > 0) {
      this.#track(
        (async () => {
          for (const tp of unpositioned) await this.#resetTo(tp);
        })(),
      );
    }
    if (this.#joined) {
      const started = this.#rebalanceStarted ?? Date.now();
      this.#rebalanceStarted = undefined;
      void this.#settle().then(() => this.#emitGroupJoin(started));
    }
  }

  #onRevoked(partitions: CoreTopicPartition[]): void {
    if (this.#rebalanceStarted === undefined && this.#running) {
      this.#rebalanceStarted = Date.now();
      this.#emit(consumerEvents.REBALANCING, { groupId: this.#o.groupId, memberId: this.memberId });
    }
    for (const { topic, partition } of partitions) this.#offsets.forget(topic, partition);
  }

  #emitGroupJoin(started: number): void {
    const members = this.#cluster!.broker.group(this.#o.groupId).members();
    const memberId = this.memberId;
    const leaderId = members[0]?.memberId ?? memberId;
    const memberAssignment: IMemberAssignment = {};
    for (const { topic, partition } of this.#assignment()) (memberAssignment[topic] ??= []).push(partition);
    for (const list of Object.values(memberAssignment)) list.sort((a, b) => a - b);
    const payload = {
      duration: Date.now() - started,
      groupId: this.#o.groupId,
      isLeader: memberId === leaderId,
      leaderId,
      groupProtocol: ROUND_ROBIN_PROTOCOL,
      memberId,
      memberAssignment,
    };
    this.#emit(consumerEvents.GROUP_JOIN, payload);
    this.#logger.info('Consumer has joined the group', payload);
  }

  /** Starts a partition without a committed offset at its log start or end, per its topic's `fromBeginning`. */
  async #resetTo(first: CoreTopicPartition): Promise<void> {
    let next: CoreTopicPartition | undefined = first;
    // A reset fixes every pending position; one without a committed offset throws, naming its
    // partition, which is then reset in turn.
    for (let guard = 0; next !== undefined && guard < 100_000; guard++) {
      const tp: CoreTopicPartition = next;
      next = undefined;
      try {
        await this.#seekTo(tp, this.#o.topics.get(tp.topic)?.fromBeginning ?? false);
      } catch (error) {
        if (isCoreError(error, 'OFFSET_OUT_OF_RANGE') && error.topic !== undefined && error.partition !== undefined) {
          next = { topic: error.topic, partition: error.partition };
        } else if (!isCoreError(error, 'INVALID_ARGUMENT') && !isCoreError(error, 'CLOSED')) {
          throw error; // (INVALID_ARGUMENT: no longer assigned)
        }
      }
    }
  }

  /** `#seekTo`, resetting any other partition that turns out to have no committed offset. */
  async #seekToSafely(tp: CoreTopicPartition, beginning: boolean): Promise<void> {
    try {
      await this.#seekTo(tp, beginning);
    } catch (error) {
      if (isCoreError(error, 'OFFSET_OUT_OF_RANGE') && error.topic !== undefined && error.partition !== undefined) {
        await this.#resetTo({ topic: error.topic, partition: error.partition }); // fixes `tp` on the way
      } else if (!isCoreError(error, 'INVALID_ARGUMENT') && !isCoreError(error, 'CLOSED')) {
        throw error;
      }
    }
  }

  #seekTo(tp: CoreTopicPartition, beginning: boolean): Promise<void> {
    const core = this.#core!;
    return beginning ? core.seekToBeginning([tp]) : core.seekToEnd([tp]);
  }

  /** Waits for position resets in flight. */
  async #settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => {
      if (isCoreError(error, 'OFFSET_OUT_OF_RANGE') && error.topic !== undefined && error.partition !== undefined) {
        return this.#resetTo({ topic: error.topic, partition: error.partition }).catch((e: unknown) => this.#failed(e));
      }
      this.#failed(error);
    });
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  // -------------------------------------------------------------------------------------------

  async #heartbeat(): Promise<void> {
    const now = Date.now();
    if (now < this.#lastHeartbeat + this.#o.heartbeatInterval) return;
    this.#lastHeartbeat = now;
    this.#emit(consumerEvents.HEARTBEAT, { groupId: this.#o.groupId, memberId: this.memberId, groupGenerationId: this.#generation() });
  }

  #generation(): number {
    return this.#cluster?.broker.group(this.#o.groupId).generation ?? -1;
  }

  #assignment(): CoreTopicPartition[] {
    try {
      return this.#core?.assignment() ?? [];
    } catch {
      return [];
    }
  }

  #isAssigned(topic: string, partition: number): boolean {
    return this.#assignment().some((tp) => tp.topic === topic && tp.partition === partition);
  }

  #position(topic: string, partition: number): number | undefined {
    try {
      return this.#core?.position({ topic, partition });
    } catch {
      return undefined;
    }
  }

  #emit(type: ConsumerEvents[keyof ConsumerEvents], payload: unknown): void {
    this.#o.instrumentation.emit(type, payload);
  }

  #failed(error: unknown): void {
    if (isCoreError(error, 'CLOSED')) return;
    this.#logger.error(`${error instanceof Error ? error.message : String(error)}`, { groupId: this.#o.groupId, stack: (error as Error)?.stack });
  }

  #closeCore(): Promise<void> {
    this.#closing ??= (async () => {
      this.#running = false;
      await this.#core?.close().catch(() => undefined);
      this.#cluster?.members.delete(this.#coreClientId);
      this.#finished = true;
      for (const resolve of this.#onFinished.splice(0)) resolve();
    })();
    return this.#closing;
  }
}
