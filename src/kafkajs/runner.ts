/**
 * One `consumer.run()` session: a member of the group ({@link GroupSession}: a kafkalite consumer
 * on Kafka's classic protocol, polled here) and the loop that fetches, hands batches to
 * `eachMessage` / `eachBatch`, resolves and commits offsets, applies seeks and pauses, and retries
 * a failing handler, as KafkaJS' runner does. Its time — retry backoff, commit intervals, heartbeat
 * events, durations — is the cluster broker's clock.
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
import { SystemClock, type Clock, type ClockTimer, type ConsumerRecord, type Consumer as CoreConsumer, type IsolationLevel, type TopicPartition as CoreTopicPartition } from '../index.js';
import { tpKey } from '../types.js';
import type { AssignerCluster } from './assigner-cluster.js';
import { LiteBatch } from './batch.js';
import type { Cluster } from './cluster.js';
import { NODE_ID } from './constants.js';
import { KafkaJSError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, isCoreError, kafkaJSErrors, toKafkaJSError } from './errors.js';
import { GroupSession } from './group-session.js';
import { consumerEvents, type Instrumentation } from './instrumentation.js';
import { OffsetTracker } from './offset-tracker.js';
import { PauseState } from './pause-state.js';
import { Seeks } from './seeks.js';
import { isRetriable, retryTime, type ResolvedRetry } from './retry.js';
import type { Assigner, ConsumerEvents, EachBatchHandler, EachMessageHandler, Logger, TopicOffsets, TopicPartitions } from './types.js';

export interface RunnerOptions {
  /** The cluster to join (resolved when the runner starts). */
  cluster: () => Promise<Cluster>;
  groupId: string;
  /** The KafkaJS clientId. */
  clientId: string;
  topics: ReadonlyMap<string, { fromBeginning: boolean }>;
  /** The consumer's KafkaJS assigners, in preference order. */
  assigners: readonly Assigner[];
  /** The `cluster` the assigners were given: told which cluster the session reached. */
  assignerCluster: AssignerCluster;
  sessionTimeout: number;
  rebalanceTimeout: number;
  heartbeatInterval: number;
  maxWaitTimeInMs: number;
  /** `read_committed` unless KafkaJS' `readUncommitted`. */
  isolationLevel: IsolationLevel;
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

/**
 * Concurrency: `start` once; `stop`, `seek`, `pause`, `resume` and `commitOffsets` may be called
 * at any time (also from inside a handler, and before `start` resolved). One loop fetches and
 * hands out batches, `partitionsConsumedConcurrently` partitions at a time.
 */
export class Runner {
  #o: RunnerOptions;
  #cluster: Cluster | undefined;
  /** The system clock until the session reached its cluster, whose broker's clock it uses then. */
  #clock: Clock = new SystemClock();
  #session: GroupSession | undefined;
  #core: CoreConsumer | undefined;
  #running = false;
  #phase: 'idle' | 'poll' | 'process' = 'idle';
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #pauses = new PauseState();
  #seeks: Seeks;
  #offsets: OffsetTracker;
  #failures = 0;
  #wake: (() => void) | undefined;
  #end: { error?: Error; retryTime?: number } | undefined;
  #finished = false;
  #onFinished: (() => void)[] = [];
  #logger: Logger;

  constructor(options: RunnerOptions) {
    this.#o = options;
    this.#logger = options.logger.namespace('Runner');
    this.#offsets = new OffsetTracker(() => this.#clock.now());
    this.#seeks = new Seeks({ core: () => this.#core, offsets: this.#offsets, autoCommit: options.autoCommit, failed: (error) => this.#failed(error) });
  }

  /** The clock of the session's cluster (the system clock before it reached one). */
  get clock(): Clock {
    return this.#clock;
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
    return this.#session?.memberId ?? '';
  }

  /** Joins the group and starts consuming; resolves once this member holds its partitions, positions fixed. */
  async start(): Promise<void> {
    const o = this.#o;
    const cluster = await kafkaJSErrors(() => o.cluster());
    if (this.#stopping !== undefined) return; // stopped before it started
    this.#cluster = cluster;
    o.assignerCluster.attach(cluster);
    const session = new GroupSession({
      cluster,
      groupId: o.groupId,
      clientId: o.clientId,
      topics: o.topics,
      assigners: o.assigners,
      sessionTimeout: o.sessionTimeout,
      rebalanceTimeout: o.rebalanceTimeout,
      heartbeatInterval: o.heartbeatInterval,
      isolationLevel: o.isolationLevel,
      instrumentation: o.instrumentation,
      logger: this.#logger,
      onAssigned: (tps) => this.#onAssigned(tps),
      onRevoked: (tps) => this.#onRevoked(tps),
    });
    this.#session = session;
    this.#core = session.core;
    this.#clock = session.clock;
    this.#offsets.lastCommit = this.#clock.now();
    this.#running = true;
    try {
      await session.join();
      await this.#seeks.settle();
    } catch (error) {
      this.#running = false;
      await this.#closeCore();
      if (this.#stopping !== undefined) return; // stopped while joining
      // As KafkaJS' runner: a failed join (a refusal, an assigner that throws) is a crash — logged,
      // CRASH emitted, restarted if retriable — and run() resolves.
      this.#end = { error: toKafkaJSError(error) as Error };
      this.#o.onEnd(this.#end);
      return;
    }
    if (o.eachMessage !== undefined || o.eachBatch !== undefined) this.#loop = this.#run();
  }

  /** Stops fetching, lets the handler running finish, commits (with autoCommit) and leaves the group. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#running = false;
      this.#wake?.();
      if (this.#phase !== 'process') await this.#closeCore(); // nothing in flight: leave now, which ends a waiting fetch
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
        await this.#seeks.apply();
        if (!this.#running) break;
        const started = this.#clock.now();
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
        const batches = this.#batches(records);
        this.#emit(consumerEvents.FETCH, { numberOfBatches: batches.length, duration: this.#clock.now() - started, nodeId: NODE_ID });
        if (batches.length === 0) {
          await this.#heartbeat();
          continue;
        }
        await this.#processAll(batches);
        this.#failures = 0;
      } catch (error) {
        if (!this.#running) break;
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
      return new LiteBatch(topic, partition, list, this.#highWatermark(topic, partition) ?? list[list.length - 1]!.offset + 1);
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
      if (this.#pauses.isPaused(topic, partition) || this.#seeks.has(topic, partition)) return;
      this.#offsets.baseline(topic, partition, Number(batch.fetchedOffset));
      const started = this.#clock.now();
      const info = batch.describe();
      this.#emit(consumerEvents.START_BATCH_PROCESS, info);
      if (this.#o.eachMessage !== undefined) await this.#eachMessage(batch, this.#o.eachMessage);
      else if (this.#o.eachBatch !== undefined) await this.#eachBatch(batch, this.#o.eachBatch);
      this.#emit(consumerEvents.END_BATCH_PROCESS, { ...info, duration: this.#clock.now() - started });
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
      if (!this.#running || this.#seeks.has(topic, partition)) break;
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
          isStale: () => this.#seeks.has(topic, partition),
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
    if (this.#seeks.has(topic, partition)) return; // the seek decides
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

  /** Waits `ms` on the cluster's clock; `stop()` ends the wait early. */
  #sleep(ms: number): Promise<void> {
    const clock = this.#clock;
    return new Promise((resolve) => {
      const done = (): void => {
        clock.clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer: ClockTimer = clock.setTimeout(done, ms);
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
    const timeUp = autoCommitInterval != null && this.#clock.now() >= this.#offsets.lastCommit + autoCommitInterval;
    const enough = autoCommitThreshold != null && this.#offsets.countResolved() >= autoCommitThreshold;
    if (timeUp || enough) await this.#commit();
  }

  /** Commits the given offsets, or every resolved offset not committed yet. */
  async #commit(topics: TopicOffsets[] = this.#offsets.uncommitted().topics): Promise<void> {
    if (topics.length === 0) {
      this.#offsets.lastCommit = this.#clock.now();
      return;
    }
    const normalized = topics.map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.map(({ partition, offset }) => ({ partition, offset: String(offset) })),
    }));
    await this.#session!.commit(normalized);
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
    this.#seeks.seek(topic, partition, offset);
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
    return this.#pauses.pausedOf(this.#assignment());
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
      this.#pauses.applyTo(core);
    } catch (error) {
      if (!isCoreError(error, 'CLOSED')) throw toKafkaJSError(error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Group membership

  #onAssigned(partitions: CoreTopicPartition[]): void {
    this.#syncPauses();
    this.#seeks.onAssigned(partitions);
  }

  #onRevoked(partitions: CoreTopicPartition[]): void {
    for (const { topic, partition } of partitions) this.#offsets.forget(topic, partition);
  }

  // -------------------------------------------------------------------------------------------

  async #heartbeat(): Promise<void> {
    this.#session?.heartbeat();
  }

  #highWatermark(topic: string, partition: number): number | undefined {
    try {
      return this.#core?.highWatermark({ topic, partition });
    } catch {
      return undefined; // revoked meanwhile
    }
  }

  #assignment(): CoreTopicPartition[] {
    try {
      return this.#core?.assignment() ?? [];
    } catch {
      return [];
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
      await this.#session?.close();
      this.#finished = true;
      for (const resolve of this.#onFinished.splice(0)) resolve();
    })();
    return this.#closing;
  }
}
