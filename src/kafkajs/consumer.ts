/**
 * KafkaJS' consumer: `subscribe` (names and RegExps, `fromBeginning`) before `run`; `run` joins the
 * group (a {@link Runner} per session) on Kafka's classic protocol, where the group's leader runs
 * the `partitionAssigners` (KafkaJS' interface, created with the consumer as KafkaJS does), and
 * resolves once this member holds its partitions; `seek`, `pause`, `resume` and `commitOffsets`
 * need a running consumer, as in KafkaJS; a handler that keeps failing crashes the consumer, which
 * restarts (after a wait on the cluster's clock) unless told not to.
 */

import type { Clock, ClockTimer } from '../index.js';
import { checkAssigner } from './assigner-adapter.js';
import { AssignerCluster } from './assigner-cluster.js';
import { PartitionAssigners } from './assigners.js';
import type { ClientContext } from './client-context.js';
import { EARLIEST_OFFSET, LATEST_OFFSET } from './constants.js';
import { KafkaJSNonRetriableError, isCoreError, kafkaJSErrors, protocolError } from './errors.js';
import { describeGroup } from './groups.js';
import { consumerEvents, Instrumentation } from './instrumentation.js';
import { originalCause, resolveRetry, type ResolvedRetry } from './retry.js';
import { Runner } from './runner.js';
import type {
  Assigner,
  Consumer,
  ConsumerConfig,
  ConsumerEventMap,
  ConsumerEvents,
  ConsumerRunConfig,
  ConsumerSubscribeTopic,
  ConsumerSubscribeTopics,
  GroupDescription,
  Logger,
  RemoveInstrumentationEventListener,
  TopicOffsets,
  TopicPartitionOffset,
  TopicPartitionOffsetAndMetadata,
  TopicPartitions,
} from './types.js';

type ValueOf<T> = T[keyof T];

const notRunning = (): KafkaJSNonRetriableError =>
  new KafkaJSNonRetriableError('Consumer group was not initialized, consumer#run must be called first');

/** An offset as KafkaJS takes one (a string or a number holding an integer). */
function parseOffset(offset: unknown): number | undefined {
  const n = typeof offset === 'number' ? offset : typeof offset === 'string' && offset.trim() !== '' ? Number(offset) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

function checkTopicPartitions(list: { topic: string; partitions?: number[] }[]): void {
  for (const tp of list) {
    if (!tp || !tp.topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(tp?.topic ?? tp)}`);
    if (tp.partitions !== undefined && (!Array.isArray(tp.partitions) || tp.partitions.some((p) => Number.isNaN(Number(p))))) {
      throw new KafkaJSNonRetriableError(`Array of valid partitions required to pause specific partitions instead of ${String(tp.partitions)}`);
    }
  }
}

/**
 * Concurrency: every method may be called at any time, awaited or not; `run` creates its session
 * at the call, so `seek` and `pause` may follow an un-awaited `run`.
 */
export class LiteConsumer implements Consumer {
  readonly events: ConsumerEvents = consumerEvents;
  #ctx: ClientContext;
  #config: ConsumerConfig;
  #groupId: string;
  #retry: ResolvedRetry;
  #logger: Logger;
  #instrumentation: Instrumentation<ConsumerEvents>;
  #topics = new Map<string, { fromBeginning: boolean }>();
  #runner: Runner | undefined;
  #runConfig: ConsumerRunConfig = {};
  #assigners: Assigner[];
  #assignerCluster = new AssignerCluster();
  #restartTimer: { clock: Clock; timer: ClockTimer } | undefined;
  #stopping: Promise<void> | undefined;

  constructor(ctx: ClientContext, config: ConsumerConfig) {
    if (!config?.groupId) throw new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.');
    const sessionTimeout = config.sessionTimeout ?? 30_000;
    const heartbeatInterval = config.heartbeatInterval ?? 3000;
    if (heartbeatInterval >= sessionTimeout) {
      throw new KafkaJSNonRetriableError(
        `Consumer heartbeatInterval (${heartbeatInterval}) must be lower than sessionTimeout (${sessionTimeout}). It is recommended to set heartbeatInterval to approximately a third of the sessionTimeout.`,
      );
    }
    this.#ctx = ctx;
    this.#config = config;
    this.#groupId = config.groupId;
    this.#retry = resolveRetry(ctx.retry, config.retry ?? { retries: 5 });
    this.#logger = ctx.logger.namespace('Consumer');
    this.#instrumentation = new Instrumentation('consumer', consumerEvents, this.#logger, ctx.now);
    // As KafkaJS: the assigners are made with the consumer, given its cluster, group and logger.
    const factories: unknown = config.partitionAssigners ?? [PartitionAssigners.roundRobin];
    if (!Array.isArray(factories) || factories.length === 0) {
      throw new KafkaJSNonRetriableError(`partitionAssigners must be a non-empty array of assigner factories (got ${String(factories)})`);
    }
    this.#assigners = factories.map((create: unknown, index) => {
      if (typeof create !== 'function') throw new KafkaJSNonRetriableError(`partitionAssigners[${index}] must be a function ({ cluster, groupId, logger }) => assigner (got ${typeof create})`);
      const assigner: unknown = create({ cluster: this.#assignerCluster, groupId: config.groupId, logger: this.#logger });
      checkAssigner(assigner, index);
      return assigner;
    });
  }

  async connect(): Promise<void> {
    this.#assignerCluster.attach(await this.#ctx.cluster());
    this.#instrumentation.emit(consumerEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    await this.stop();
    this.#instrumentation.emit(consumerEvents.DISCONNECT);
  }

  /** Stops consuming and leaves the group; subscriptions stay, so `run` may be called again. */
  stop(): Promise<void> {
    if (this.#stopping === undefined) {
      const stopping = this.#stop();
      const done = (): void => {
        if (this.#stopping === stopping) this.#stopping = undefined;
      };
      this.#stopping = stopping;
      stopping.then(done, done);
    }
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const runner = this.#runner;
    if (runner !== undefined) {
      await runner.stop();
      if (this.#runner === runner) this.#runner = undefined;
      // Stopped from inside a handler, the runner leaves once that handler returns: STOP then.
      const stopped = (): void => this.#instrumentation.emit(consumerEvents.STOP);
      if (runner.isFinished) stopped();
      else void runner.finished.then(stopped);
    }
    this.#clearRestart();
    this.#logger.info('Stopped', { groupId: this.#groupId });
  }

  async subscribe(subscription: ConsumerSubscribeTopics | ConsumerSubscribeTopic): Promise<void> {
    if (this.#runner !== undefined) throw new KafkaJSNonRetriableError('Cannot subscribe to topic while consumer is running');
    const { fromBeginning = false } = subscription ?? {};
    const topic = (subscription as ConsumerSubscribeTopic | undefined)?.topic;
    const topics = (subscription as ConsumerSubscribeTopics | undefined)?.topics;
    if (!topic && !topics) throw new KafkaJSNonRetriableError('Missing required argument "topics"');
    if (topics != null && !Array.isArray(topics)) throw new KafkaJSNonRetriableError('Argument "topics" must be an array');
    const subscriptions: unknown[] = topics ?? [topic];
    for (const s of subscriptions) {
      if (typeof s !== 'string' && !(s instanceof RegExp)) {
        throw new KafkaJSNonRetriableError(`Invalid topic ${String(s)} (${typeof s}), the topic name has to be a String or a RegExp`);
      }
    }
    // As KafkaJS, topics named by string are the subscription at once: a run() issued without
    // awaiting this call joins with them.
    for (const s of subscriptions) if (typeof s === 'string') this.#topics.set(s, { fromBeginning });
    const cluster = await this.#ctx.cluster();
    const existing = subscriptions.some((s) => s instanceof RegExp) ? cluster.broker.listTopics() : [];
    const names: string[] = [];
    for (const s of subscriptions as (string | RegExp)[]) {
      if (typeof s === 'string') names.push(s);
      else names.push(...existing.filter((t) => s.test(t)));
    }
    await kafkaJSErrors(async () => {
      for (const name of names) {
        try {
          cluster.broker.topic(name);
        } catch (error) {
          if (!isCoreError(error, 'UNKNOWN_TOPIC')) throw error;
          // As KafkaJS' metadata request: create the topic, unless told not to.
          if (this.#config.allowAutoTopicCreation === false) throw protocolError('UNKNOWN_TOPIC_OR_PARTITION', error);
          if (cluster.ownsBroker) await cluster.broker.createTopic(name).catch((e: unknown) => (isCoreError(e, 'TOPIC_EXISTS') ? undefined : Promise.reject(e)));
        }
      }
    });
    for (const name of names) this.#topics.set(name, { fromBeginning });
  }

  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (this.#runner !== undefined) {
      this.#logger.warn('consumer#run was called, but the consumer is already running', { groupId: this.#groupId });
      return;
    }
    this.#runConfig = config ?? {};
    await this.#start();
  }

  /** Creates the session's runner at once (so `seek` and `pause` may follow an un-awaited `run`), then joins. */
  async #start(): Promise<void> {
    const c = this.#config;
    const r = this.#runConfig;
    this.#logger.info('Starting', { groupId: this.#groupId });
    const runner: Runner = new Runner({
      cluster: () => this.#ctx.cluster(),
      groupId: this.#groupId,
      clientId: this.#ctx.clientId,
      topics: new Map(this.#topics),
      assigners: this.#assigners,
      assignerCluster: this.#assignerCluster,
      sessionTimeout: c.sessionTimeout ?? 30_000,
      rebalanceTimeout: c.rebalanceTimeout ?? 60_000,
      heartbeatInterval: c.heartbeatInterval ?? 3000,
      maxWaitTimeInMs: c.maxWaitTimeInMs ?? 5000,
      // KafkaJS' default isolation level is READ_COMMITTED.
      isolationLevel: c.readUncommitted === true ? 'read_uncommitted' : 'read_committed',
      retry: this.#retry,
      autoCommit: r.autoCommit ?? true,
      autoCommitInterval: r.autoCommitInterval ?? null,
      autoCommitThreshold: r.autoCommitThreshold ?? null,
      eachBatchAutoResolve: r.eachBatchAutoResolve ?? true,
      concurrency: Math.max(1, r.partitionsConsumedConcurrently ?? 1),
      eachMessage: r.eachMessage ?? undefined,
      eachBatch: r.eachBatch ?? undefined,
      instrumentation: this.#instrumentation,
      logger: this.#ctx.logger,
      onEnd: (end) => void this.#onEnd(runner, end),
    });
    this.#runner = runner;
    try {
      await runner.start();
    } catch (error) {
      if (this.#runner === runner) this.#runner = undefined;
      throw error;
    }
  }

  /** The runner ended on its own: its cluster went away, or it crashed (then, as KafkaJS, maybe restart). */
  async #onEnd(runner: Runner, end: { error?: Error; retryTime?: number }): Promise<void> {
    if (this.#runner !== runner) return;
    this.#runner = undefined;
    const { error } = end;
    if (error === undefined) return;
    const retryCount = (error as { retryCount?: number }).retryCount;
    this.#logger.error(`Crash: ${error.name}: ${error.message}`, { groupId: this.#groupId, retryCount, stack: error.stack });
    this.#instrumentation.emit(consumerEvents.STOP);
    this.#instrumentation.emit(consumerEvents.DISCONNECT);
    let restart = error.name === 'KafkaJSNumberOfRetriesExceeded' || (originalCause(error) as { retriable?: boolean }).retriable === true;
    if (restart && this.#retry.restartOnFailure !== undefined) {
      restart = await this.#retry.restartOnFailure(error).catch((e: unknown) => {
        this.#logger.error('Caught error when invoking user-provided "restartOnFailure" callback. Defaulting to restarting.', {
          error: e instanceof Error ? e.message : String(e),
          cause: error.message,
          groupId: this.#groupId,
        });
        return true;
      });
    }
    this.#instrumentation.emit(consumerEvents.CRASH, { error, groupId: this.#groupId, restart });
    if (!restart) return;
    const wait = (error as { retryTime?: number }).retryTime || end.retryTime || this.#retry.initialRetryTime;
    this.#logger.error(`Restarting the consumer in ${wait}ms`, { retryCount, retryTime: wait, groupId: this.#groupId });
    const clock = runner.clock;
    this.#clearRestart();
    const timer = clock.setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#runner === undefined) this.#start().catch((e: unknown) => this.#logger.error(`Restart failed: ${e instanceof Error ? e.message : String(e)}`));
    }, wait);
    this.#restartTimer = { clock, timer };
  }

  #clearRestart(): void {
    if (this.#restartTimer !== undefined) this.#restartTimer.clock.clearTimeout(this.#restartTimer.timer);
    this.#restartTimer = undefined;
  }

  async commitOffsets(topicPartitions: TopicPartitionOffsetAndMetadata[] = []): Promise<void> {
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const { topic, partition, offset, metadata = null } of topicPartitions) {
      if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`);
      if (Number.isNaN(Number(partition))) throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${String(partition)}`);
      const n = parseOffset(offset);
      if (n === undefined) throw new KafkaJSNonRetriableError(`Invalid offset, expected a long received ${String(offset)}`);
      if (n < 0) throw new KafkaJSNonRetriableError('Offset must not be a negative number');
      if (metadata !== null && typeof metadata !== 'string') {
        throw new KafkaJSNonRetriableError(`Invalid offset metadata, expected string or null, received ${String(metadata)}`);
      }
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition: Number(partition), offset: String(n) }]);
    }
    const runner = this.#runner;
    if (runner === undefined) throw notRunning();
    const topics: TopicOffsets[] = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    await runner.commitOffsets(topics);
  }

  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    if (!topic) throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`);
    if (Number.isNaN(Number(partition))) throw new KafkaJSNonRetriableError(`Invalid partition, expected a number received ${String(partition)}`);
    const n = parseOffset(offset);
    if (n === undefined) throw new KafkaJSNonRetriableError(`Invalid offset, expected a long received ${String(offset)}`);
    if (n < 0 && n !== EARLIEST_OFFSET && n !== LATEST_OFFSET) throw new KafkaJSNonRetriableError('Offset must not be a negative number');
    const runner = this.#runner;
    if (runner === undefined) throw notRunning();
    runner.seek(topic, Number(partition), String(n));
  }

  async describeGroup(): Promise<GroupDescription> {
    return describeGroup(await this.#ctx.cluster(), this.#groupId);
  }

  pause(topicPartitions: { topic: string; partitions?: number[] }[] = []): void {
    checkTopicPartitions(topicPartitions);
    const runner = this.#runner;
    if (runner === undefined) throw notRunning();
    this.#logger.info(`Pausing fetching from ${topicPartitions.length} topics`, { topicPartitions });
    runner.pause(topicPartitions);
  }

  paused(): TopicPartitions[] {
    return this.#runner?.paused() ?? [];
  }

  resume(topicPartitions: { topic: string; partitions?: number[] }[] = []): void {
    checkTopicPartitions(topicPartitions);
    const runner = this.#runner;
    if (runner === undefined) throw notRunning();
    this.#logger.info(`Resuming fetching from ${topicPartitions.length} topics`, { topicPartitions });
    runner.resume(topicPartitions);
  }

  on<E extends ValueOf<ConsumerEvents>>(eventName: E, listener: (event: ConsumerEventMap[E]) => void): RemoveInstrumentationEventListener<E> {
    return this.#instrumentation.on(eventName, listener);
  }

  logger(): Logger {
    return this.#logger;
  }
}
