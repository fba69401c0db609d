/**
 * A model-based test of consumer groups (fast-check `fc.commands`): consumers in poll mode join,
 * leave, poll (processing and then committing what they got — or committing later, in a Commit of
 * their own), stall past `maxPollIntervalMs`, and the group settles, while records are produced
 * and the topic grows. Shared by the vitest test (`group-model.test.ts`, fixed seed) and the soak
 * runner (`test/soak`, random seeds, many runs).
 *
 * Invariants checked:
 * 1. After every Settle the group is Stable, every live consumer is a member, and the members'
 *    assignments (as the consumers see them and as `broker.group(id).members()` reports them) agree
 *    and are a disjoint, balanced cover of the topic's partitions.
 * 2. No two members process one partition at once: a member "processes" a partition from the poll
 *    that returned its records until its next poll. Another member getting records of it meanwhile
 *    is a violation — unless the first one was removed from the group (Kafka's zombie: counted).
 * 3. At least once: after a final Settle and drain, every produced record was processed, and the
 *    group's lag is 0 everywhere.
 * 4. While a member holds a partition, the offsets it gets from it are contiguous (no gap, no
 *    repeat); a revocation or assignment (any rebalance event) resets this.
 * 5. A member is only removed when it did not poll within `maxPollIntervalMs` (the heartbeats run
 *    on the clock, so the session timeout never expires in this model).
 * 6. A partition's committed offset never goes back (no seeks here, and a removed member's commits
 *    are fenced) and never passes the log end.
 * 7. Stable means done: once Settle found the group Stable, one more poll of every member (no time
 *    passing, nobody joining or leaving) revokes and assigns nothing.
 * Plus liveness: Settle reaches Stable within a bound, every pending `subscribe` resolves, and no
 * call hangs.
 */
import fc from 'fast-check';
import { Broker, KafkaliteError, ManualClock, type AssignorName, type Consumer, type ConsumerRecord, type Producer } from 'kafkalite';

export const TOPIC = 't';
export const GROUP = 'g';
export const MAX_POLL_INTERVAL_MS = 30_000;
export const SESSION_TIMEOUT_MS = 10_000;
const MAX_CONSUMERS = 6;
const SETTLE_ROUNDS = 50;
/** Real-time limit for any single call into kafkalite: beyond it, the call is reported as hung. */
const HANG_MS = 10_000;

export const ASSIGNORS: readonly AssignorName[] = ['range', 'roundrobin', 'cooperative-sticky'];

/** Counters across runs, for the report (how often the interesting cases happened). */
export interface GroupModelStats {
  runs: number;
  commands: number;
  polls: number;
  recordsProcessed: number;
  redeliveries: number;
  /** Another member got records of a partition a removed member had not finished (allowed). */
  zombieOverlaps: number;
  /** Members removed for not polling (seen after a clock step). */
  removals: number;
  commits: number;
  /** `commit` refused with NOT_IN_GROUP (the member was removed or the partition moved). */
  commitsRefused: number;
  /** Removed although it polled within maxPollIntervalMs (only counted with `earlyRemovalSlackMs`). */
  earlyRemovals: number;
  settles: number;
  maxSettleRounds: number;
}

export function newStats(): GroupModelStats {
  return {
    runs: 0,
    commands: 0,
    polls: 0,
    recordsProcessed: 0,
    redeliveries: 0,
    zombieOverlaps: 0,
    removals: 0,
    commits: 0,
    commitsRefused: 0,
    earlyRemovals: 0,
    settles: 0,
    maxSettleRounds: 0,
  };
}

/** What the commands' `check`s look at; the real system's details live in the harness. */
export interface GroupModel {
  partitions: number;
  /** Ids of consumers not closed (a consumer removed for stalling is still live: it rejoins). */
  live: number[];
  nextId: number;
  produced: number;
}

interface Processed {
  value: string;
  consumer: number;
  partition: number;
  offset: number;
}

interface Member {
  id: number;
  clientId: string;
  consumer: Consumer;
  /** The `subscribe` started by Join; advanced by later polls. */
  subscribed: Promise<void>;
  subscribeState: 'pending' | 'done' | 'failed';
  subscribeError: unknown;
  closed: boolean;
  /** Bumped at the start of every poll (a poll is the safe point that ends "processing"). */
  pollSeq: number;
  lastPollAt: number;
  /** Recent polls (subscribe counts as one) with their place in the harness' order of events, for invariant 5. */
  pollTimes: { at: number; event: number }[];
  /** Per partition, the last offset this member got while holding it (reset by rebalance events). */
  lastOffset: Map<number, number>;
  /** What the member was told it holds: partitionsAssigned minus partitionsRevoked events. */
  held: Set<number>;
}

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

async function deadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvariantViolation(`hang: ${what} did not settle within ${HANG_MS} ms of real time`)), HANG_MS);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A ManualClock that notices a busy loop: a promise chain that never yields to the event loop
 * would hang the run (no timer, not even the hang deadline, could fire). Every step of the
 * harness resets the count; 200,000 reads of `now()` in one step is a spin, and the read that
 * finds it throws (and every 200,000th after it), which breaks the loop so the run can fail with
 * a message instead of hanging.
 */
export class SpinGuardClock extends ManualClock {
  #reads = 0;
  spun: string | undefined;
  override now(): number {
    if (++this.#reads > 200_000) {
      this.#reads = 0;
      this.spun ??= new Error('stack').stack ?? '';
      throw new InvariantViolation('busy loop: now() was read 200000 times without the harness getting a turn');
    }
    return super.now();
  }
  /** Resets the count without checking (teardown). */
  reset(): void {
    this.#reads = 0;
  }

  /** Called by the harness at each step. */
  step(): void {
    this.#reads = 0;
    if (this.spun !== undefined) {
      fail(`busy loop: a promise chain kept running without yielding to the event loop (it starves every timer and I/O). Stack of the spinning read:\n${this.spun}`);
    }
  }
}

/** The real system: one broker on a ManualClock, one topic, one group, and bookkeeping. */
export class GroupHarness {
  readonly clock: SpinGuardClock;
  readonly broker: Broker;
  readonly producer: Producer;
  partitions: number;
  readonly assignor: AssignorName;
  readonly stats: GroupModelStats;
  readonly earlyRemovalSlackMs: number;
  readonly groupProtocol: 'consumer' | 'classic';
  readonly members = new Map<number, Member>();
  readonly produced: string[] = [];
  readonly processed: Processed[] = [];
  /** Who last got records of a partition, and its pollSeq then. */
  readonly #holder = new Map<number, { consumer: number; seq: number }>();
  /** clientIds in the group as last observed. */
  #inGroup = new Set<string>();
  /** partitionsRevoked / partitionsAssigned events so far (invariant 7). */
  #rebalanceEvents: string[] = [];
  /** Committed offsets as last seen (invariant 6). */
  readonly #committed = new Map<number, number>();
  /** When #inGroup was observed. */
  #observedAt = 0;
  /** Orders polls and observations that happen in the same millisecond (invariant 5). */
  #events = 0;
  #observedEvent = 0;
  readonly #seen = new Set<string>();
  /** A log of what happened, printed with a failure. */
  readonly trace: string[] = [];

  private constructor(
    clock: SpinGuardClock,
    broker: Broker,
    partitions: number,
    assignor: AssignorName,
    stats: GroupModelStats,
    earlyRemovalSlackMs: number,
    groupProtocol: 'consumer' | 'classic',
  ) {
    this.clock = clock;
    this.groupProtocol = groupProtocol;
    this.earlyRemovalSlackMs = earlyRemovalSlackMs;
    this.broker = broker;
    this.producer = broker.producer();
    this.partitions = partitions;
    this.assignor = assignor;
    this.stats = stats;
  }

  static async open(
    partitions: number,
    assignor: AssignorName,
    stats: GroupModelStats,
    earlyRemovalSlackMs = 0,
    groupProtocol: 'consumer' | 'classic' = 'consumer',
  ): Promise<GroupHarness> {
    const clock = new SpinGuardClock();
    const broker = await Broker.open({ clock, logger: 'silent' });
    await broker.createTopic(TOPIC, { partitions });
    stats.runs++;
    return new GroupHarness(clock, broker, partitions, assignor, stats, earlyRemovalSlackMs, groupProtocol);
  }

  #log(line: string): void {
    this.trace.push(`[t=${this.clock.now()}] ${line}`);
    if (this.trace.length > 400) this.trace.shift();
  }

  live(): Member[] {
    return [...this.members.values()].filter((m) => !m.closed);
  }

  #member(id: number): Member {
    const m = this.members.get(id);
    if (m === undefined || m.closed) throw new Error(`model error: consumer ${id} is not live`);
    return m;
  }

  join(id: number): void {
    this.clock.step();
    const clientId = `c${id}`;
    const consumer = this.broker.consumer({
      groupId: GROUP,
      clientId,
      autoOffsetReset: 'earliest',
      autoCommit: false,
      maxPollIntervalMs: MAX_POLL_INTERVAL_MS,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      assignor: this.assignor,
      groupProtocol: this.groupProtocol,
    });
    const member: Member = {
      id,
      clientId,
      consumer,
      subscribed: Promise.resolve(),
      subscribeState: 'pending',
      subscribeError: undefined,
      closed: false,
      pollSeq: 0,
      lastPollAt: this.clock.now(),
      pollTimes: [{ at: this.clock.now(), event: ++this.#events }],
      lastOffset: new Map(),
      held: new Set(),
    };
    consumer.on('partitionsRevoked', (tps) => {
      for (const tp of tps) member.lastOffset.delete(tp.partition);
      for (const tp of tps) member.held.delete(tp.partition);
      this.#rebalanceEvents.push(`${clientId} revoked ${tps.map((tp) => tp.partition).join(',')}`);
      this.#log(`${clientId} revoked ${tps.map((tp) => tp.partition).join(',')}`);
    });
    consumer.on('partitionsAssigned', (tps) => {
      for (const tp of tps) member.lastOffset.delete(tp.partition);
      for (const tp of tps) member.held.add(tp.partition);
      this.#rebalanceEvents.push(`${clientId} assigned ${tps.map((tp) => tp.partition).join(',')}`);
      this.#log(`${clientId} assigned ${tps.map((tp) => tp.partition).join(',')}`);
    });
    consumer.on('error', (error: unknown) => this.#log(`${clientId} error event: ${String(error)}`));
    // Not awaited: with an eager assignor it resolves only once the others came back to poll.
    member.subscribed = consumer.subscribe(TOPIC).then(
      () => {
        member.subscribeState = 'done';
      },
      (error: unknown) => {
        member.subscribeState = 'failed';
        member.subscribeError = error;
      },
    );
    this.members.set(id, member);
    this.#log(`${clientId} joins`);
  }

  async leave(id: number): Promise<void> {
    const m = this.#member(id);
    this.#log(`${m.clientId} closes`);
    this.clock.step();
    await deadline(m.consumer.close(), `${m.clientId}.close()`);
    this.clock.step();
    m.closed = true;
    if (m.subscribeState === 'pending') {
      // Closing rejects a subscribe that had not settled (CLOSED).
      await deadline(m.subscribed, `${m.clientId}.subscribe() after close`);
    }
    if (m.subscribeState === 'failed' && !isCode(m.subscribeError, 'CLOSED')) {
      fail(`${m.clientId}.subscribe() failed with ${String(m.subscribeError)}`);
    }
    this.#observeGroup();
    if (this.#inGroup.has(m.clientId)) fail(`${m.clientId} is still a member of the group after close()`);
  }

  async produce(messages: { key: string | null; value: string }[]): Promise<void> {
    this.clock.step();
    await deadline(this.producer.send({ topic: TOPIC, messages }), 'producer.send()');
    this.clock.step();
    for (const { value } of messages) this.produced.push(value);
  }

  /** Grows the topic (a rebalance trigger). */
  async addPartitions(total: number): Promise<void> {
    this.#log(`topic grows to ${total} partitions`);
    this.clock.step();
    await deadline(this.broker.topic(TOPIC).addPartitions(total), 'topic.addPartitions()');
    this.clock.step();
    this.partitions = total;
  }

  /** One poll: records are processed (invariants 2 and 4), then committed (NOT_IN_GROUP allowed). */
  async poll(id: number, commit = true): Promise<number> {
    const m = this.#member(id);
    m.pollSeq++;
    m.lastPollAt = this.clock.now();
    m.pollTimes.push({ at: m.lastPollAt, event: ++this.#events });
    if (m.pollTimes.length > 64) m.pollTimes.shift();
    this.stats.polls++;
    this.clock.step();
    const records = await deadline(m.consumer.poll({ timeoutMs: 0 }), `${m.clientId}.poll()`);
    this.clock.step();
    if (records.length === 0) return 0;
    this.#process(m, records);
    if (commit) await this.commit(id);
    return records.length;
  }

  /**
   * Commits the consumer's positions: everything it got from polls has been processed. Refused
   * with NOT_IN_GROUP when it no longer holds a partition (removed, or the partition moved).
   * Invariant 6: a partition's committed offset never goes back and never passes the log end.
   */
  async commit(id: number): Promise<void> {
    const m = this.#member(id);
    this.clock.step();
    try {
      await deadline(m.consumer.commit(), `${m.clientId}.commit()`);
      this.stats.commits++;
    } catch (error) {
      if (!isCode(error, 'NOT_IN_GROUP')) throw error;
      this.stats.commitsRefused++;
      this.#log(`${m.clientId} commit refused: ${(error as Error).message}`);
    }
    this.clock.step();
    const group = this.broker.group(GROUP);
    const topic = this.broker.topic(TOPIC);
    for (let p = 0; p < this.partitions; p++) {
      const committed = await group.committed({ topic: TOPIC, partition: p });
      if (committed === undefined) continue;
      const before = this.#committed.get(p) ?? 0;
      if (committed < before) fail(`the committed offset of partition ${p} went back from ${before} to ${committed} (commit by ${m.clientId})`);
      const end = topic.partitions[p]!.logEndOffset;
      if (committed > end) fail(`the committed offset of partition ${p} is ${committed}, past its log end ${end}`);
      if (committed !== before) this.#log(`p${p} committed ${committed} (by ${m.clientId})`);
      this.#committed.set(p, committed);
    }
  }

  #process(m: Member, records: ConsumerRecord[]): void {
    const byPartition = new Map<number, ConsumerRecord[]>();
    for (const r of records) {
      if (r.topic !== TOPIC) fail(`${m.clientId} got a record of topic ${r.topic}`);
      const list = byPartition.get(r.partition) ?? [];
      list.push(r);
      byPartition.set(r.partition, list);
    }
    this.#log(
      `${m.clientId} polled ${[...byPartition].map(([p, rs]) => `p${p}@${rs[0]!.offset}..${rs[rs.length - 1]!.offset}`).join(' ')}`,
    );
    for (const [partition, list] of byPartition) {
      // Invariant 2: nobody else is still processing this partition.
      const holder = this.#holder.get(partition);
      if (holder !== undefined && holder.consumer !== m.id) {
        const other = this.members.get(holder.consumer)!;
        if (!other.closed && other.pollSeq === holder.seq) {
          this.#observeGroup();
          if (this.#inGroup.has(other.clientId)) {
            fail(
              `partition ${partition} processed by ${m.clientId} while ${other.clientId} (still in the group) ` +
                `has not polled since it got records of it`,
            );
          }
          this.stats.zombieOverlaps++;
          this.#log(`zombie: ${other.clientId} (removed) still processing p${partition} when ${m.clientId} got it`);
        }
      }
      this.#holder.set(partition, { consumer: m.id, seq: m.pollSeq });
      // Invariant 4: contiguous offsets while held.
      let last = m.lastOffset.get(partition);
      for (const r of list) {
        if (last !== undefined && r.offset !== last + 1) {
          fail(`${m.clientId} got offset ${r.offset} of partition ${partition} after ${last} with no rebalance in between`);
        }
        last = r.offset;
      }
      m.lastOffset.set(partition, last!);
      for (const r of list) {
        const value = r.value?.toString() ?? '<null>';
        if (this.#seen.has(value)) this.stats.redeliveries++;
        this.#seen.add(value);
        this.processed.push({ value, consumer: m.id, partition, offset: r.offset });
        this.stats.recordsProcessed++;
      }
    }
  }

  /** Notes who is in the group; a live member that left it was removed (invariant 5). */
  #observeGroup(): void {
    const now = new Set(this.broker.group(GROUP).members().map((x) => x.clientId));
    for (const m of this.live()) {
      if (this.#inGroup.has(m.clientId) && !now.has(m.clientId)) {
        this.stats.removals++;
        const t = this.clock.now();
        const idle = t - m.lastPollAt;
        this.#log(`${m.clientId} removed from the group (idle ${idle} ms)`);
        if (idle < MAX_POLL_INTERVAL_MS) this.stats.earlyRemovals++;
        // Removed after the last observation that saw it in the group. It must not have polled
        // before that observation within (t - max, observedAt] (with slack: polls after
        // observedAt - slack may not have been reported yet). A poll in the same millisecond but
        // after that observation may come after the removal.
        const culprit = m.pollTimes.find(
          (p) => p.at > t - MAX_POLL_INTERVAL_MS && p.at <= this.#observedAt - this.earlyRemovalSlackMs && p.event < this.#observedEvent,
        )?.at;
        if (culprit !== undefined) {
          fail(
            `${m.clientId} was removed from the group at t=${this.#observedAt}..${t} although it polled at t=${culprit} ` +
              `(last poll t=${m.lastPollAt}; maxPollIntervalMs ${MAX_POLL_INTERVAL_MS})`,
          );
        }
      }
    }
    this.#inGroup = now;
    this.#observedAt = this.clock.now();
    this.#observedEvent = ++this.#events;
  }

  /**
   * Advances the clock by `ms` in steps of at most 1 s. The `active` consumers poll at the start
   * and then every `pollEveryMs`; the others stall.
   */
  async stall(ms: number, active: number[], pollEveryMs: number): Promise<void> {
    this.#log(`stall ${ms} ms; active ${active.map((id) => `c${id}`).join(',') || '-'} every ${pollEveryMs} ms`);
    this.#observeGroup();
    for (const id of active) await this.poll(id);
    const end = this.clock.now() + ms;
    let nextPoll = this.clock.now() + pollEveryMs;
    while (this.clock.now() < end) {
      const step = Math.min(1000, end - this.clock.now(), nextPoll - this.clock.now());
      this.clock.step();
      await deadline(this.clock.advance(step), `clock.advance(${step})`);
      this.clock.step();
      this.#observeGroup();
      if (this.clock.now() >= nextPoll) {
        for (const id of active) await this.poll(id);
        this.#observeGroup();
        nextPoll = this.clock.now() + pollEveryMs;
      }
    }
  }

  /** Polls every live consumer until the group is Stable with all of them; then checks invariant 1. */
  async settle(): Promise<void> {
    const live = this.live();
    if (live.length === 0) return;
    this.stats.settles++;
    let round = 0;
    for (; round < SETTLE_ROUNDS; round++) {
      this.#observeGroup();
      if (this.#isSettled()) break;
      for (const m of this.live()) await this.poll(m.id);
      this.clock.step();
      await deadline(this.clock.advance(0), 'clock.advance(0)');
      this.clock.step();
    }
    this.stats.maxSettleRounds = Math.max(this.stats.maxSettleRounds, round);
    if (!this.#isSettled()) fail(`the group did not settle within ${SETTLE_ROUNDS} rounds of polling every consumer:\n${this.describe()}`);
    this.#checkAssignment();
    // Invariant 7: Stable means done. Another round of polls (no time passing, nobody joining or
    // leaving) must not revoke or assign anything.
    const before = this.describe();
    const events = this.#rebalanceEvents.length;
    for (const m of this.live()) await this.poll(m.id);
    this.clock.step();
    await deadline(this.clock.advance(0), 'clock.advance(0)');
    this.clock.step();
    const after = this.#rebalanceEvents.slice(events);
    if (after.length > 0 || !this.#isSettled()) {
      fail(
        `the group was Stable, yet one more poll of every member changed it (${after.join('; ') || 'no events'}):\n` +
          `before the round:\n${before}\nafter it: below`,
      );
    }
    this.#checkAssignment();
  }

  /**
   * Stable, every live consumer a member, and told (by its events) that it holds what the group
   * says it has (on the classic protocol the coordinator is Stable once the leader sent the
   * assignments, a moment before the members take them up).
   */
  #isSettled(): boolean {
    const group = this.broker.group(GROUP);
    if (group.state !== 'Stable') return false;
    const members = new Map(group.members().map((m) => [m.clientId, m]));
    const key = (tps: { partition: number }[]): string => tps.map((tp) => tp.partition).sort((a, b) => a - b).join(',');
    return this.live().every((m) => {
      const member = members.get(m.clientId);
      return member !== undefined && m.subscribeState !== 'pending' && key(member.assignment) === key([...m.held].map((partition) => ({ partition })));
    });
  }

  /** Invariant 1. */
  #checkAssignment(): void {
    const live = this.live();
    for (const m of live) {
      if (m.subscribeState === 'failed') fail(`${m.clientId}.subscribe() failed: ${String(m.subscribeError)}`);
    }
    const group = this.broker.group(GROUP);
    const members = group.members();
    const byClient = new Map(members.map((m) => [m.clientId, m]));
    if (members.length !== live.length || byClient.size !== members.length) {
      fail(`the group has members ${members.map((m) => m.clientId).join(',')} but the live consumers are ${live.map((m) => m.clientId).join(',')}`);
    }
    const owner = new Map<number, string>();
    const counts: number[] = [];
    for (const m of live) {
      const mine = partitionsOf(m.consumer.assignment());
      const theirs = partitionsOf(byClient.get(m.clientId)?.assignment ?? []);
      if (mine.join(',') !== theirs.join(',')) {
        fail(`${m.clientId} holds [${mine.join(',')}] but the group says it holds [${theirs.join(',')}]`);
      }
      for (const p of mine) {
        const o = owner.get(p);
        if (o !== undefined) fail(`partition ${p} is held by both ${o} and ${m.clientId}`);
        owner.set(p, m.clientId);
      }
      counts.push(mine.length);
    }
    for (let p = 0; p < this.partitions; p++) if (!owner.has(p)) fail(`partition ${p} is held by no member in a Stable group:\n${this.describe()}`);
    if (owner.size !== this.partitions) fail(`members hold partitions that do not exist:\n${this.describe()}`);
    if (Math.max(...counts) - Math.min(...counts) > 1) fail(`the assignment is not balanced (${this.assignor}):\n${this.describe()}`);
  }

  /** After the commands: at least one member, settle, drain, then invariant 3. */
  async finish(): Promise<void> {
    if (this.live().length === 0) this.join(Math.max(-1, ...this.members.keys()) + 1);
    await this.settle();
    for (let round = 0; ; round++) {
      if (round > 1000) fail('draining did not end');
      let got = 0;
      const events = this.#rebalanceEvents.length;
      for (const m of this.live()) got += await this.poll(m.id);
      this.clock.step();
      await deadline(this.clock.advance(0), 'clock.advance(0)');
      this.clock.step();
      this.#observeGroup();
      if (got === 0 && this.#rebalanceEvents.length === events && this.#isSettled()) break;
    }
    // Records processed by a "no commit" poll and never redelivered (their member kept the
    // partition) are committed now, as the application would after processing them.
    for (const m of this.live()) await this.commit(m.id);
    const seen = new Set(this.processed.map((p) => p.value));
    const missing = this.produced.filter((v) => !seen.has(v));
    if (missing.length > 0) fail(`records never processed: ${missing.slice(0, 20).join(',')}${missing.length > 20 ? ', …' : ''}`);
    const lag = await deadline(this.broker.group(GROUP).lag(), 'group.lag()');
    const behind = lag.filter((l) => l.lag !== 0);
    if (behind.length > 0) {
      fail(`lag after draining with commit-after-processing: ${behind.map((l) => `p${l.partition} committed ${String(l.committed)} end ${l.logEndOffset}`).join('; ')}`);
    }
  }

  describe(): string {
    const group = this.broker.group(GROUP);
    const lines = [
      `  partitions ${this.partitions}, assignor ${this.assignor}, state ${group.state}, generation ${group.generation}`,
      `  group members: ${group.members().map((m) => `${m.clientId}[${partitionsOf(m.assignment).join(',')}]`).join(' ') || '-'}`,
      `  live consumers: ${
        this.live()
          .map((m) => `${m.clientId}[${partitionsOf(m.consumer.assignment()).join(',')}]${m.subscribeState === 'pending' ? '(subscribing)' : ''}`)
          .join(' ') || '-'
      }`,
    ];
    return lines.join('\n');
  }

  async close(): Promise<void> {
    this.clock.reset();
    // After a failure a member may be waiting out its retry backoff on the clock (GroupMember's
    // error path, which `leave` does not interrupt): move the clock until close is done.
    let closed = false;
    const closing = this.broker.close().finally(() => {
      closed = true;
    });
    for (let i = 0; i < 100 && !closed; i++) {
      await tick();
      if (!closed) await this.clock.advance(1000);
    }
    await deadline(closing, 'broker.close()');
    for (const m of this.members.values()) await deadline(m.subscribed, `${m.clientId}.subscribe() after broker.close()`);
    await tick();
  }
}

function partitionsOf(tps: { topic: string; partition: number }[]): number[] {
  return tps.filter((tp) => tp.topic === TOPIC).map((tp) => tp.partition).sort((a, b) => a - b);
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof KafkaliteError && error.code === code;
}

// ---------------------------------------------------------------------------------------------
// Commands

type Cmd = fc.AsyncCommand<GroupModel, GroupHarness>;

const pick = (model: GroupModel, n: number): number => model.live[n % model.live.length]!;

class JoinCommand implements Cmd {
  check(model: Readonly<GroupModel>): boolean {
    return model.live.length < MAX_CONSUMERS;
  }
  async run(model: GroupModel, real: GroupHarness): Promise<void> {
    const id = model.nextId++;
    model.live.push(id);
    real.join(id);
  }
  toString(): string {
    return 'Join';
  }
}

class LeaveCommand implements Cmd {
  constructor(readonly n: number) {}
  check(model: Readonly<GroupModel>): boolean {
    return model.live.length > 0;
  }
  async run(model: GroupModel, real: GroupHarness): Promise<void> {
    const id = pick(model, this.n);
    model.live = model.live.filter((x) => x !== id);
    await real.leave(id);
  }
  toString(): string {
    return `Leave(#${this.n})`;
  }
}

class ProduceCommand implements Cmd {
  constructor(readonly keys: (string | null)[]) {}
  check(): boolean {
    return true;
  }
  async run(model: GroupModel, real: GroupHarness): Promise<void> {
    const first = model.produced;
    model.produced += this.keys.length;
    await real.produce(this.keys.map((key, i) => ({ key, value: `r${first + i}` })));
  }
  toString(): string {
    return `Produce(${this.keys.map((k) => (k === null ? 'null' : JSON.stringify(k))).join(',')})`;
  }
}

/** A poll; the records are processed, then committed — unless `commit` is false (the application was stopped before committing: the records are due again). */
class PollCommand implements Cmd {
  constructor(
    readonly n: number,
    readonly commit: boolean,
  ) {}
  check(model: Readonly<GroupModel>): boolean {
    return model.live.length > 0;
  }
  async run(model: GroupModel, real: GroupHarness): Promise<void> {
    await real.poll(pick(model, this.n), this.commit);
  }
  toString(): string {
    return `Poll(#${this.n}${this.commit ? '' : ', no commit'})`;
  }
}

const MAX_PARTITIONS = 8;

class AddPartitionsCommand implements Cmd {
  constructor(readonly more: number) {}
  check(model: Readonly<GroupModel>): boolean {
    return model.partitions < MAX_PARTITIONS;
  }
  async run(model: GroupModel, real: GroupHarness): Promise<void> {
    model.partitions = Math.min(MAX_PARTITIONS, model.partitions + this.more);
    await real.addPartitions(model.partitions);
  }
  toString(): string {
    return `AddPartitions(+${this.more})`;
  }
}

/** A commit on its own: the records of earlier "no commit" polls are processed now. */
class CommitCommand implements Cmd {
  constructor(readonly n: number) {}
  check(model: Readonly<GroupModel>): boolean {
    return model.live.length > 0;
  }
  async run(model: GroupModel, real: GroupHarness): Promise<void> {
    await real.commit(pick(model, this.n));
  }
  toString(): string {
    return `Commit(#${this.n})`;
  }
}

class StallCommand implements Cmd {
  constructor(
    readonly ms: number,
    readonly activeMask: number,
    readonly pollEveryMs: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(model: GroupModel, real: GroupHarness): Promise<void> {
    const active = model.live.filter((_, i) => (this.activeMask >> i) & 1);
    await real.stall(this.ms, active, this.pollEveryMs);
  }
  toString(): string {
    return `Stall(${this.ms}ms, active=0b${this.activeMask.toString(2)}, every ${this.pollEveryMs}ms)`;
  }
}

class SettleCommand implements Cmd {
  check(): boolean {
    return true;
  }
  async run(_model: GroupModel, real: GroupHarness): Promise<void> {
    await real.settle();
  }
  toString(): string {
    return 'Settle';
  }
}

const keyArb = fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { nil: null, freq: 5 });

export const commandArbitraries: fc.Arbitrary<Cmd>[] = [
  fc.constant(new JoinCommand()),
  fc.constant(new JoinCommand()),
  fc.nat(MAX_CONSUMERS - 1).map((n) => new LeaveCommand(n)),
  fc.array(keyArb, { minLength: 1, maxLength: 5 }).map((keys) => new ProduceCommand(keys)),
  fc.array(keyArb, { minLength: 1, maxLength: 5 }).map((keys) => new ProduceCommand(keys)),
  fc.nat(MAX_CONSUMERS - 1).map((n) => new PollCommand(n, true)),
  fc.nat(MAX_CONSUMERS - 1).map((n) => new PollCommand(n, true)),
  fc.nat(MAX_CONSUMERS - 1).map((n) => new PollCommand(n, false)),
  fc.nat(MAX_CONSUMERS - 1).map((n) => new CommitCommand(n)),
  fc
    .tuple(fc.integer({ min: 1000, max: 40_000 }), fc.nat((1 << MAX_CONSUMERS) - 1), fc.integer({ min: 1000, max: 29_000 }))
    .map(([ms, mask, every]) => new StallCommand(ms, mask, every)),
  fc.constant(new SettleCommand()),
  fc.integer({ min: 1, max: 2 }).map((n) => new AddPartitionsCommand(n)),
];

/** Counts the commands that run. */
function* counted(commands: Iterable<Cmd>, stats: GroupModelStats): Iterable<Cmd> {
  for (const c of commands) {
    yield {
      check: (m) => c.check(m),
      run: (m, r) => {
        stats.commands++;
        return c.run(m, r);
      },
      toString: () => c.toString(),
    };
  }
}

export interface GroupModelOptions {
  maxCommands?: number;
  /** fast-check's replayPath of a failing command sequence (printed with the counterexample). */
  replayPath?: string;
  /**
   * Invariant 5 tolerance: a member may be removed this long before `maxPollIntervalMs` since its
   * last poll has passed (0: strict). The coordinator learns of polls only from heartbeats, so a
   * poll in the last heartbeat interval (sessionTimeoutMs / 3) before the stale deadline is missed;
   * see the 'bugs' test in group-model.test.ts.
   */
  earlyRemovalSlackMs?: number;
  stats?: GroupModelStats;
  /** Which of Kafka's group protocols the consumers use. @default 'consumer' */
  groupProtocol?: 'consumer' | 'classic';
  /** Called with the harness' trace when a run fails (the soak prints it for the shrunk case). */
  onFailure?: (trace: string[], error: unknown) => void;
}

/** The property: a random topic size and assignor, then a random command sequence. */
export function groupModelProperty(options: GroupModelOptions = {}) {
  const stats = options.stats ?? newStats();
  return fc.asyncProperty(
    fc.integer({ min: 1, max: 6 }),
    fc.constantFrom(...ASSIGNORS),
    fc.commands(commandArbitraries, {
      maxCommands: options.maxCommands ?? 40,
      size: 'max',
      ...(options.replayPath !== undefined ? { replayPath: options.replayPath } : {}),
    }),
    async (partitions, assignor, commands) => {
      const real = await GroupHarness.open(partitions, assignor, stats, options.earlyRemovalSlackMs, options.groupProtocol);
      try {
        await fc.asyncModelRun(() => ({ model: { partitions, live: [], nextId: 0, produced: 0 }, real }), counted(commands, stats));
        await real.finish();
      } catch (caught) {
        let error = caught;
        if (real.clock.spun !== undefined && !(error instanceof Error && error.message.startsWith('busy loop'))) {
          error = new InvariantViolation(`busy loop (found while: ${String(caught)}); stack of the spinning read:\n${real.clock.spun}`);
        }
        options.onFailure?.(real.trace, error);
        if (error instanceof Error && !error.message.includes('\ntrace:')) {
          error.message += `\n${real.describe()}\ntrace:\n  ${real.trace.slice(-80).join('\n  ')}`;
        }
        throw error;
      } finally {
        await real.close();
      }
    },
  );
}
