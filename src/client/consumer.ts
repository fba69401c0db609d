import { EventEmitter } from 'eventemitter3';
import { closed, invalidArgument, KafkaliteError, notInGroup, show } from '../errors.js';
import { describeError } from '../logger.js';
import { validateTopicName } from '../topic/topic-config.js';
import { tpKey, type ConsumerRecord, type TopicPartition, type TopicPartitionOffset } from '../types.js';
import type { ClientContext } from './client-context.js';
import { LATEST_TIMESTAMP, type AssignorFunction, type KafkaApi, type TopicChange } from '../seam/kafka-api.js';
import { CaughtUpWaiters } from './caught-up.js';
import { Delivery, type DeliveryHost, type RunOptions } from './delivery.js';
import { fixPositions, newCursor, resetOutOfRange, type PartitionCursor } from './positions.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './consumer-options.js';
import { ClassicMember, type GroupJoin } from './classic-member.js';
import { GroupMember } from './group-member.js';
import type { MemberHost, Membership } from './membership.js';
import { classicAssignors } from './partition-assignor.js';

export type { EachBatchPayload, EachMessagePayload, RunOptions } from './delivery.js';

export interface ConsumerEvents {
  partitionsAssigned: [partitions: TopicPartition[]];
  partitionsRevoked: [partitions: TopicPartition[]];
  error: [error: unknown];
  /** Classic protocol: a JoinGroup/SyncGroup round completed (generation, member and leader ids, the protocol, what this member got). */
  groupJoin: [join: GroupJoin];
}

/**
 * Reads records from assigned partitions: by `poll`, by `run` (push, with handlers) or by
 * `for await` — all three through one delivery loop ({@link Delivery}). Positions are kept per
 * partition; a record is delivered once its position has moved past it (in `run` mode only after
 * its handler returned).
 *
 * Concurrency: one delivery mode at a time — a second concurrent `poll`, or `poll` while `run`
 * is active, is refused with `INVALID_ARGUMENT`. `seek`, `pause`, `resume` and `assign` may be
 * called at any time, also from inside a handler; records fetched before them are dropped.
 */
export class Consumer<K = Buffer, V = Buffer> extends EventEmitter<ConsumerEvents> {
  #api: KafkaApi;
  #ctx: ClientContext;
  #options: ResolvedConsumerOptions;
  #assigned = new Map<string, PartitionCursor>();
  #delivery: Delivery;
  #caughtUp = new CaughtUpWaiters((c) => this.#isCurrent(c));
  #closing: Promise<void> | undefined;
  #onClose: (consumer: Consumer<K, V>) => void;
  #member: Membership | undefined;
  #revoking: Promise<void> | undefined;
  #autoCommitTimer: ReturnType<ClientContext['clock']['setTimeout']> | undefined;
  /** The last `assign`'s check that its new partitions exist. */
  #verifying: Promise<void> = Promise.resolve();
  /** Subscriptions hand their topics to the member in call order, each after the one before. */
  #subscriptions: Promise<void> = Promise.resolve();
  #unwatch: () => void;
  /** Bumped whenever a rebalance takes partitions from this member or gives it some. */
  #moves = 0;

  /**
   * The delivery loop's view of a consumer: methods of one class, not closures made per consumer.
   * V8's optimized code for the loop inlines what it calls; calling a closure would build that
   * consumer's own objects into the code, which is thrown away (and the loop runs slow until it is
   * compiled again) once that consumer is gone and collected — with each consumer a test or a
   * short-lived worker creates.
   */
  static readonly #DeliveryHost = class<K, V> implements DeliveryHost {
    readonly #consumer: Consumer<K, V>;
    constructor(consumer: Consumer<K, V>) {
      this.#consumer = consumer;
    }
    cursors(): Iterable<PartitionCursor> {
      return this.#consumer.#assigned.values();
    }
    isCurrent(cursor: PartitionCursor): boolean {
      return this.#consumer.#isCurrent(cursor);
    }
    isClosing(): boolean {
      return this.#consumer.#closing !== undefined;
    }
    inGroup(): boolean {
      return this.#consumer.#member !== undefined;
    }
    fixPositions(): Promise<void> | undefined {
      return this.#consumer.#fixPositions();
    }
    outOfRange(cursor: PartitionCursor, logStart: number, logEnd: number): void {
      resetOutOfRange(cursor, this.#consumer.#options, logStart, logEnd);
    }
    polled(now: number, previous: number): void {
      this.#consumer.#polled(now, previous);
    }
    revoking(): Promise<void> | undefined {
      return this.#consumer.#revoking;
    }
    progressed(): void {
      this.#consumer.#caughtUp.check();
    }
    report(what: string, error: unknown, fields?: Record<string, unknown>): void {
      this.#consumer.#report(what, error, fields);
    }
  };

  /** @internal created by `broker.consumer()`. */
  constructor(api: KafkaApi, ctx: ClientContext, options: ConsumerOptions<K, V> | undefined, onClose: (consumer: Consumer<K, V>) => void) {
    super();
    this.#options = resolveConsumerOptions(options as ConsumerOptions<unknown, unknown> | undefined);
    this.#api = api;
    this.#ctx = ctx;
    this.#onClose = onClose;
    this.#delivery = new Delivery(api, ctx, this.#options, new Consumer.#DeliveryHost<K, V>(this));
    this.#unwatch = api.watchMetadata((topic, change) => this.#topicChanged(topic, change));
  }

  /**
   * A deleted topic takes its records and committed offsets with it: the consumer's positions in
   * it mean nothing any more. Its partitions wait (neither fetched nor reset) until a topic of that
   * name exists again, then start over from the group's offsets or `autoOffsetReset`, as new ones.
   */
  #topicChanged(topic: string, change: TopicChange): void {
    if (change === 'altered') return;
    const cursors = [...this.#assigned.values()].filter((c) => c.topic === topic);
    if (change === 'deleted') {
      for (const cursor of cursors) {
        const fresh = newCursor(topic, cursor.partition, this.#options);
        cursor.position = undefined;
        cursor.reset = fresh.reset;
        cursor.committed = undefined;
        cursor.highWatermark = undefined;
        cursor.unverified = true;
        cursor.epoch++;
      }
      if (cursors.length > 0) this.#delivery.wake();
      return;
    }
    // Created again (or grown): each waiting partition goes on once it exists; one the new topic
    // does not have waits for it to grow.
    for (const cursor of cursors.filter((c) => c.unverified)) {
      this.#checkExist([cursor]).then(
        () => {
          if (!this.#isCurrent(cursor) || !cursor.unverified) return;
          cursor.unverified = false;
          this.#delivery.wake();
        },
        () => undefined,
      );
    }
  }

  /** The consumer's group, if it was created with one. */
  get groupId(): string | undefined {
    return this.#options.groupId;
  }

  /**
   * This consumer's member id in its group, as the coordinator gave it (Kafka's `memberId`; on
   * the classic protocol `<clientId>-<uuid>`). The same for the member's life; undefined before
   * it joined (`subscribe`), after it was removed until it joins again, and after `close`.
   */
  get memberId(): string | undefined {
    return this.#closing === undefined ? this.#member?.memberId : undefined;
  }

  /**
   * Takes these partitions, outside any group, replacing the current assignment. It takes effect
   * at the call (as Kafka's Java client's `assign`): `assignment()` shows it at once, and `seek`,
   * `seekTo*` and `pause` may follow without awaiting. Positions of newly assigned partitions
   * start per `autoOffsetReset` unless a seek came first; the promise resolves once they are
   * fixed. A partition that does not exist rejects the call, and the previous assignment is back.
   */
  assign(partitions: TopicPartition[]): Promise<void> {
    try {
      this.#checkOpen();
      if (!Array.isArray(partitions)) throw invalidArgument(`assign takes an array of { topic, partition } (got ${show(partitions)})`);
      if (this.#member !== undefined) throw invalidArgument('assign cannot be used by a consumer that subscribed: its group assigns its partitions');
      const previous = this.#assigned;
      const next = new Map<string, PartitionCursor>();
      const added: PartitionCursor[] = [];
      for (const tp of partitions) {
        checkTopicPartition(tp, 'assign');
        const { topic, partition } = tp;
        const key = tpKey(topic, partition);
        if (next.has(key)) continue;
        let cursor = previous.get(key);
        if (cursor === undefined) {
          cursor = this.#newState(topic, partition);
          cursor.unverified = true;
          added.push(cursor);
        }
        next.set(key, cursor);
      }
      this.#assigned = next;
      this.#delivery.wake();
      this.#scheduleAutoCommit();
      const settled = this.#settleAssignment(previous, next, added);
      this.#verifying = settled.then(
        () => undefined,
        () => undefined,
      );
      return settled;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Checks that newly assigned partitions exist (else goes back to `previous`), then fixes positions. */
  async #settleAssignment(previous: Map<string, PartitionCursor>, next: Map<string, PartitionCursor>, added: PartitionCursor[]): Promise<void> {
    try {
      await this.#checkExist(added);
      for (const c of added) c.unverified = false;
      this.#delivery.wake();
      await this.#fixPositions();
    } catch (error) {
      // Refused (a partition that does not exist; 'none' with nothing committed): nothing
      // changes — unless another assign replaced this one meanwhile.
      if (this.#assigned === next) {
        this.#assigned = previous;
        this.#delivery.wake();
      }
      this.#caughtUp.check();
      throw error;
    }
    this.#caughtUp.check();
  }

  #newState(topic: string, partition: number): PartitionCursor {
    return newCursor(topic, partition, this.#options);
  }

  /**
   * Joins the consumer's group for these topics (creating unknown ones when the broker
   * auto-creates), or changes the subscription: one consumer is one member, however many
   * `subscribe` calls overlap, and the last call's topics win. Resolves once this member holds its
   * assignment, positions fixed: with `'latest'`, every record produced after this resolves is
   * delivered.
   */
  async subscribe(topics: string | string[]): Promise<void> {
    this.#checkOpen();
    const groupId = this.#options.groupId;
    if (groupId === undefined) throw notInGroup('subscribe');
    const given = typeof topics === 'string' ? [topics] : topics;
    if (!Array.isArray(given) || given.length === 0) {
      throw invalidArgument(`subscribe takes a topic name or a non-empty array of them (got ${show(topics)})`);
    }
    given.forEach((t) => validateTopicName(t));
    if (this.#member === undefined && this.#assigned.size > 0) {
      throw invalidArgument('subscribe cannot be used by a consumer with a manual assignment (assign)');
    }
    const list = [...new Set(given)];
    this.#member ??= this.#newMember(groupId);
    const member = this.#member;
    this.#scheduleAutoCommit();
    // Topics are created first (so the group sees their partitions), one call after the other.
    const handedOver = this.#subscriptions.then(async () => {
      await this.#api.metadata({ topics: list, allowAutoTopicCreation: true });
      this.#checkOpen();
      this.#delivery.touch();
      return { settled: member.subscribe(list) };
    });
    this.#subscriptions = handedOver.then(
      () => undefined,
      () => undefined,
    );
    const { settled } = await handedOver;
    await settled;
  }

  /**
   * Commits offsets for the consumer's group: the given ones, or the position of every assigned
   * partition. A committed offset is the next offset to read. Needs a `groupId`.
   */
  async commit(offsets?: TopicPartitionOffset[]): Promise<void> {
    this.#checkOpen();
    if (this.#options.groupId === undefined) throw notInGroup('commit');
    if (offsets !== undefined) {
      if (!Array.isArray(offsets)) throw invalidArgument(`commit takes an array of { topic, partition, offset } (got ${show(offsets)})`);
      for (const o of offsets) {
        checkTopicPartition(o, 'commit');
        if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw invalidArgument(`commit offset must be an integer >= 0 (got ${show(o.offset)})`, o);
      }
      await this.#commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
      return;
    }
    await this.#commitStates([...this.#assigned.values()], true);
  }

  /** The group's committed offset for a partition (`undefined` if none). Needs a `groupId`. */
  async committed(tp: TopicPartition): Promise<number | undefined> {
    this.#checkOpen();
    const groupId = this.#options.groupId;
    if (groupId === undefined) throw notInGroup('committed');
    checkTopicPartition(tp, 'committed');
    const [offset] = await this.#api.offsetFetch({ groupId, partitions: [{ topic: tp.topic, partition: tp.partition }] });
    return offset;
  }

  /** Commits the positions of these partitions (only those that moved, unless `all`). */
  async #commitStates(states: PartitionCursor[], all = false): Promise<void> {
    const offsets: TopicPartitionOffset[] = [];
    const committed: [PartitionCursor, number][] = [];
    for (const s of states) {
      if (s.position === undefined || (!all && s.position === s.committed)) continue;
      offsets.push({ topic: s.topic, partition: s.partition, offset: s.position });
      committed.push([s, s.position]);
    }
    if (offsets.length === 0) return;
    await this.#commitOffsets(offsets);
    for (const [s, position] of committed) s.committed = position;
  }

  #commitOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    // A subscribed consumer between memberships (removed, joining again) commits nothing, as
    // Java's consumer refuses to: its partitions may already be someone else's.
    if (this.#member !== undefined && this.#member.memberId === undefined) {
      return Promise.reject(
        new KafkaliteError('NOT_IN_GROUP', `consumer ${show(this.#options.clientId)} is not a member of group ${show(this.#options.groupId)} right now (it is joining, or was removed): commit refused`),
      );
    }
    return this.#api.offsetCommit({ groupId: this.#options.groupId!, memberId: this.#member?.memberId, generationId: this.#member?.generationId, offsets });
  }

  #newMember(groupId: string): Membership {
    const o = this.#options;
    const common = {
      groupId,
      clientId: o.clientId,
      sessionTimeoutMs: o.sessionTimeoutMs,
      maxPollIntervalMs: o.maxPollIntervalMs,
      retryBackoffMs: o.retryBackoffMs,
    };
    if (o.groupProtocol === 'classic') {
      return new ClassicMember(this.#api, this.#ctx.clock, { ...common, assignors: classicAssignors(o.assignor) }, this.#memberHost(), (join) =>
        this.emit('groupJoin', join),
      );
    }
    return new GroupMember(this.#api, this.#ctx.clock, { ...common, assignor: o.assignor as string | AssignorFunction }, this.#memberHost());
  }

  #scheduleAutoCommit(): void {
    if (!this.#options.autoCommit || this.#options.groupId === undefined || this.#autoCommitTimer !== undefined) return;
    const clock = this.#ctx.clock;
    this.#autoCommitTimer = clock.setTimeout(async () => {
      this.#autoCommitTimer = undefined;
      if (this.#closing !== undefined) return;
      await this.#commitStates([...this.#assigned.values()].filter((s) => !s.revoked)).catch((error: unknown) => this.#report('auto-commit', error));
      this.#scheduleAutoCommit();
    }, this.#options.autoCommitIntervalMs);
    this.#autoCommitTimer.unref?.();
  }

  /** The consumer as its group membership sees it. */
  #memberHost(): MemberHost {
    return {
      owned: () => [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition })),
      polledAt: () => this.#delivery.polledAt,
      revoke: (partitions, lost) => this.#revoke(partitions, lost),
      take: (partitions) => this.#take(partitions),
      nextPoll: () => this.#delivery.nextPoll(),
      error: (error) => this.#report('group membership', error),
    };
  }

  /**
   * Gives partitions up: waits for a safe point (the application back in `poll`, no handler
   * running on them), commits their positions (unless they were lost), then forgets them.
   */
  #revoke(toRevoke: () => TopicPartition[], lost: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      const safePoint = this.#delivery.safePoint();
      if (safePoint !== undefined) await safePoint;
      const states = toRevoke().map((tp) => this.#assigned.get(tpKey(tp.topic, tp.partition))).filter((s) => s !== undefined);
      for (const s of states) s.revoked = true;
      this.#delivery.wake();
      await this.#delivery.handling?.catch(() => undefined);
      if (!lost && this.#options.autoCommit) await this.#commitStates(states).catch((error: unknown) => this.#report('commit on revocation', error));
      for (const s of states) {
        if (this.#assigned.get(tpKey(s.topic, s.partition)) === s) this.#assigned.delete(tpKey(s.topic, s.partition));
      }
      if (states.length > 0) {
        this.#moves++;
        this.emit('partitionsRevoked', states.map(({ topic, partition }) => ({ topic, partition })));
      }
      this.#caughtUp.check();
    };
    const done = run();
    this.#revoking = done;
    const settled = (): void => {
      if (this.#revoking === done) this.#revoking = undefined;
    };
    void done.then(settled, settled);
    return done;
  }

  /** Takes newly assigned partitions: positions from committed offsets, then delivery. */
  async #take(partitions: TopicPartition[]): Promise<void> {
    const added: TopicPartition[] = [];
    for (const { topic, partition } of partitions) {
      const key = tpKey(topic, partition);
      if (this.#assigned.has(key)) continue;
      this.#assigned.set(key, this.#newState(topic, partition));
      added.push({ topic, partition });
    }
    if (added.length > 0) this.#moves++;
    await this.#fixPositions(true);
    if (added.length > 0) this.emit('partitionsAssigned', added);
    this.#delivery.wake();
  }

  /** The partitions this consumer holds. */
  assignment(): TopicPartition[] {
    this.#checkOpen();
    return [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Moves a partition's position: the next record delivered is the one at `offset`. */
  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    this.#checkOpen();
    const state = this.#state({ topic, partition }, 'seek');
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw invalidArgument(`seek offset must be an integer >= 0 (got ${show(offset)})`, { topic, partition });
    }
    state.position = offset;
    state.reset = undefined;
    state.epoch++;
    this.#delivery.wake();
    this.#caughtUp.check();
  }

  /**
   * The partition's high watermark (the offset its next record gets) as the consumer's last fetch
   * of it saw it — what KafkaJS' `batch.highWatermark` is; `undefined` before the first fetch.
   */
  highWatermark(tp: TopicPartition): number | undefined {
    this.#checkOpen();
    return this.#state(tp, 'highWatermark').highWatermark;
  }

  /** The next offset to be delivered from a partition. */
  position(tp: TopicPartition): number {
    this.#checkOpen();
    const state = this.#state(tp, 'position');
    if (state.position === undefined) {
      throw invalidArgument(`the position of ${tp.topic}-${tp.partition} is not fixed yet: await assign() or seekTo*() first`, tp);
    }
    return state.position;
  }

  /** Moves the given partitions (default: all assigned) to the start of their logs. */
  seekToBeginning(partitions?: TopicPartition[]): Promise<void> {
    return this.#seekTo('earliest', partitions);
  }

  /** Moves the given partitions (default: all assigned) to the end of their logs. */
  seekToEnd(partitions?: TopicPartition[]): Promise<void> {
    return this.#seekTo('latest', partitions);
  }

  async #seekTo(where: 'earliest' | 'latest', partitions: TopicPartition[] | undefined): Promise<void> {
    this.#checkOpen();
    const states = partitions === undefined ? [...this.#assigned.values()] : partitionList(partitions, `seekTo${where === 'earliest' ? 'Beginning' : 'End'}`).map((tp) => this.#state(tp, 'seek'));
    for (const s of states) {
      s.reset = where;
      s.position = undefined;
      s.epoch++;
    }
    this.#delivery.wake();
    await this.#verifying; // partitions just assigned get their positions once known to exist
    await this.#fixPositions();
    this.#caughtUp.check();
  }

  /** Stops delivering from these partitions until `resume`; positions stay. */
  pause(partitions: TopicPartition[]): void {
    this.#checkOpen();
    const states = partitionList(partitions, 'pause').map((tp) => this.#state(tp, 'pause'));
    for (const s of states) s.paused = true;
    this.#delivery.wake();
    this.#caughtUp.check();
  }

  resume(partitions: TopicPartition[]): void {
    this.#checkOpen();
    const states = partitionList(partitions, 'resume').map((tp) => this.#state(tp, 'resume'));
    for (const s of states) s.paused = false;
    this.#delivery.wake();
  }

  paused(): TopicPartition[] {
    this.#checkOpen();
    return [...this.#assigned.values()].filter((s) => s.paused).map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * Returns the records there are (at most `maxPollRecords`), or waits up to `timeoutMs` for the
   * first one and returns `[]` if none came. Positions move past every record returned.
   */
  async poll(options: { timeoutMs?: number } = {}): Promise<ConsumerRecord<K, V>[]> {
    this.#checkOpen();
    if (options === null || typeof options !== 'object') throw invalidArgument(`poll takes { timeoutMs?: number } (got ${show(options)})`);
    // The delivery loop moves records as it fetched them; with deserializers they carry K and V.
    return (await this.#delivery.poll(options.timeoutMs ?? 0)) as ConsumerRecord<unknown, unknown>[] as ConsumerRecord<K, V>[];
  }

  /**
   * Push mode: calls `eachMessage` for every record (or `eachBatch` per partition's records), in
   * offset order per partition. A handler that throws leaves the position on its record, which is
   * delivered again after `retryBackoffMs`; the error is emitted as `'error'`. Resolves once
   * running, with positions fixed.
   */
  async run(handlers: RunOptions<K, V>): Promise<void> {
    this.#checkOpen();
    await this.#delivery.run(handlers as RunOptions<unknown, unknown> as RunOptions);
  }

  /** `for await (const record of consumer)`: each record is delivered as it is yielded. */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord<K, V>, void, undefined> {
    this.#checkOpen();
    yield* this.#delivery.iterate() as AsyncGenerator<ConsumerRecord<unknown, unknown>, void, undefined> as AsyncGenerator<ConsumerRecord<K, V>, void, undefined>;
  }

  /**
   * Resolves when every assigned, unpaused partition has been delivered up to its log end as it
   * stood at this call (in `run` mode: its handlers have returned). A group member in the middle
   * of a rebalance first waits until it holds its whole assignment.
   */
  async caughtUp(): Promise<void> {
    this.#checkOpen();
    // Calls made before this one and not awaited (a subscribe, a send) reach the broker first:
    // they are all in-process work that ends within the current turn.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      // In a group, first the assignment: a member in the middle of a rebalance holds too little.
      await this.#member?.whenSettled();
      const moves = this.#moves;
      const states = [...this.#assigned.values()].filter((s) => !s.paused);
      if (states.length > 0) {
        const { partitions } = await this.#api.listOffsets({
          partitions: states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp: LATEST_TIMESTAMP })),
          isolationLevel: this.#options.isolationLevel,
        });
        await this.#caughtUp.wait(states.map((cursor, i) => ({ cursor, offset: partitions[i]!.offset })));
      }
      // A rebalance meanwhile moved partitions: caught up on what the member holds after it.
      if (this.#moves === moves) return;
    }
  }

  /**
   * Stops delivery (letting a running handler finish), commits (with `autoCommit`) and leaves.
   * Safe to call twice. Called from inside a `run` handler (before its first `await`), it does not
   * wait for that handler — which is waiting for it — and the record being handled is not
   * committed: it is delivered again to whoever gets the partition.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#delivery.stop();
      if (this.#autoCommitTimer !== undefined) this.#ctx.clock.clearTimeout(this.#autoCommitTimer);
      if (this.#options.groupId !== undefined && this.#options.autoCommit) {
        await this.#commitStates([...this.#assigned.values()].filter((s) => !s.revoked)).catch((error: unknown) => this.#report('commit on close', error));
      }
      await this.#member?.leave();
      this.#unwatch();
      this.#caughtUp.rejectAll(closed('consumer'));
      this.#onClose(this);
    })();
    return this.#closing;
  }

  // -------------------------------------------------------------------------------------------

  /** Whether a cursor is still the one assigned for its partition. */
  #isCurrent(cursor: PartitionCursor): boolean {
    return this.#assigned.get(tpKey(cursor.topic, cursor.partition)) === cursor;
  }

  /**
   * The application polled. Back after more than `maxPollIntervalMs`, the member is out of its
   * group (the coordinator removes it; Java's consumer has left by then): what it holds is lost
   * now, before this poll fetches — another member may hold it already. The membership then
   * finds itself removed and joins again.
   */
  #polled(now: number, previous: number): void {
    const member = this.#member;
    if (member === undefined) return;
    if (now > previous + this.#options.maxPollIntervalMs && this.#assigned.size > 0 && this.#closing === undefined) {
      const held = (): TopicPartition[] => [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
      void this.#revoke(held, true).catch((error: unknown) => this.#report('losing partitions after a late poll', error));
    }
    member.polled(now);
  }

  /** Fixes the positions waiting for a reset; undefined at once when none waits (the fetch loop's usual case). */
  #fixPositions(lenient = false): Promise<void> | undefined {
    for (const c of this.#assigned.values()) {
      if (c.reset !== undefined && !c.unverified) return fixPositions(this.#api, this.#assigned.values(), this.#options, lenient);
    }
    return undefined;
  }

  /** Rejects (with UNKNOWN_TOPIC / UNKNOWN_PARTITION) unless every partition exists. */
  async #checkExist(cursors: PartitionCursor[]): Promise<void> {
    if (cursors.length === 0) return;
    await this.#api.listOffsets({
      partitions: cursors.map((c) => ({ topic: c.topic, partition: c.partition, timestamp: LATEST_TIMESTAMP })),
    });
  }

  #state(tp: TopicPartition, what: string): PartitionCursor {
    checkTopicPartition(tp, what);
    const state = this.#assigned.get(tpKey(tp.topic, tp.partition));
    if (state === undefined) {
      throw invalidArgument(`${what}: partition ${tp.topic}-${tp.partition} is not assigned to this consumer`, tp);
    }
    return state;
  }

  /**
   * A failure no call of the application returns: emitted as `'error'`, and logged (once per
   * cause, then rate-limited) whether or not anyone listens.
   */
  #report(what: string, error: unknown, fields?: Record<string, unknown>): void {
    const who = `consumer ${show(this.#options.clientId)}${this.#options.groupId === undefined ? '' : ` of group ${show(this.#options.groupId)}`}`;
    this.#ctx.log.warn(`${who} ${what}: ${describeError(error)}`, `${who} ${what} failed: ${describeError(error)}`, {
      ...fields,
      error,
    });
    this.emit('error', error);
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closed('consumer');
  }
}

/** The partitions a call names: an array, checked before anything changes. */
function partitionList(partitions: TopicPartition[], what: string): TopicPartition[] {
  if (!Array.isArray(partitions)) throw invalidArgument(`${what} takes an array of { topic, partition } (got ${show(partitions)})`);
  return partitions;
}

function checkTopicPartition(tp: TopicPartition, what: string): void {
  if (tp === null || typeof tp !== 'object' || typeof tp.topic !== 'string' || !Number.isInteger(tp.partition) || tp.partition < 0) {
    throw invalidArgument(`${what} takes { topic: string, partition: integer >= 0 } (got ${show(tp)})`);
  }
}
