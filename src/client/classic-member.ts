import type { Clock } from '../clock.js';
import { closed, invalidArgument, KafkaliteError, show } from '../errors.js';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../group/consumer-protocol.js';
import { tpKey, type TopicPartition } from '../types.js';
import type { GroupError, JoinGroupResponse, KafkaApi } from '../seam/kafka-api.js';
import type { MemberHost, Membership, MembershipOptions } from './membership.js';
import { withoutPartitionsHeldElsewhere, type AssignorMember, type PartitionAssignor } from './partition-assignor.js';

export interface ClassicMemberOptions extends MembershipOptions {
  /** Most preferred first. */
  assignors: PartitionAssignor[];
}

/** What the last completed join told this member. */
export interface GroupJoin {
  generationId: number;
  memberId: string;
  leaderId: string;
  protocol: string;
  /** What this member was given. */
  assignment: TopicPartition[];
}

/**
 * A consumer's membership on Kafka's classic protocol, as Kafka's Java `ConsumerCoordinator`
 * runs it: JoinGroup with a subscription per assignor it supports; the leader runs the chosen
 * assignor over everyone's subscription; SyncGroup hands each member its share. Heartbeats keep
 * the member alive; one answered `REBALANCE_IN_PROGRESS` makes it join again.
 *
 * Before joining, an eager member gives up everything it holds (at the host's safe point,
 * committing first); a cooperative one keeps its partitions, gives up after the SyncGroup what it
 * was not given, and joins once more so that those can go to their new owner — so no partition is
 * ever held by two members at once. In-process, heartbeats long-poll (the coordinator answers at
 * once when a rebalance starts), so members learn of rebalances in microseconds, not at the next
 * heartbeat interval. A member that does not poll within `maxPollIntervalMs` leaves the group (as
 * Java's consumer does) and joins again at its next poll.
 *
 * Concurrency: one loop per member does all joins and heartbeats; `subscribe` and `leave` may be
 * called at any time and only set what the loop does next.
 */
export class ClassicMember implements Membership {
  #api: KafkaApi;
  #clock: Clock;
  #options: ClassicMemberOptions;
  #host: MemberHost;
  #onJoin: (join: GroupJoin) => void;
  #memberId = '';
  #generation = -1;
  #protocol: PartitionAssignor;
  #topics: string[] = [];
  #subscription = 0;
  #needsJoin = true;
  /** A join round just completed: the next heartbeat answers at once, to learn whether the group is settled. */
  #justJoined = false;
  #settled = false;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #stopped = false;
  #onStop: (() => void)[] = [];

  constructor(api: KafkaApi, clock: Clock, options: ClassicMemberOptions, host: MemberHost, onJoin: (join: GroupJoin) => void = () => undefined) {
    this.#api = api;
    this.#clock = clock;
    this.#options = options;
    this.#host = host;
    this.#onJoin = onJoin;
    this.#protocol = options.assignors[0]!;
  }

  get memberId(): string | undefined {
    return this.#memberId === '' ? undefined : this.#memberId;
  }

  get generationId(): number | undefined {
    return this.#memberId === '' ? undefined : this.#generation;
  }

  subscribe(topics: string[]): Promise<void> {
    if (this.#stopped) return Promise.reject(closed('consumer'));
    const settled = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#topics = [...topics];
    this.#subscription++;
    this.#settled = false;
    this.#needsJoin = true;
    this.#poke();
    this.#loop ??= this.#run();
    return settled;
  }

  /** Also asks the coordinator: a rebalance may have begun that this member's loop has not heard of yet. */
  async whenSettled(): Promise<void> {
    if (this.#stopped) throw closed('consumer');
    if (this.#settled) {
      const { groupId } = this.#options;
      const { error, revocationsPending } = await this.#api.heartbeat({ groupId, generationId: this.#generation, memberId: this.#memberId, maxWaitMs: 0 });
      if (error === undefined && revocationsPending !== true && this.#settled) return;
      this.#settled = false;
      this.#poke(); // the loop's next heartbeat meets the same answer and acts on it
    }
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  polled(): void {
    // The loop checks the poll interval itself; a removed member waits for host.nextPoll().
  }

  async leave(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    for (const resolve of this.#onStop.splice(0)) resolve();
    this.#rejectWaiters(closed('consumer'));
    const left = this.#memberId;
    if (left !== '') await this.#leaveAs(left);
    await this.#loop?.catch(() => undefined);
    // A join that completed while the first leave was out made a member again.
    if (this.#memberId !== '' && this.#memberId !== left) await this.#leaveAs(this.#memberId);
  }

  #leaveAs(memberId: string): Promise<void> {
    return this.#api.leaveGroup({ groupId: this.#options.groupId, memberId }).catch(() => undefined);
  }

  #poke(): void {
    this.#abort.abort();
    this.#abort = new AbortController();
  }

  async #run(): Promise<void> {
    const { sessionTimeoutMs, maxPollIntervalMs } = this.#options;
    const interval = Math.max(1, Math.floor(sessionTimeoutMs / 3));
    while (!this.#stopped) {
      try {
        if (this.#needsJoin) {
          await this.#joinRound();
          continue;
        }
        const pollDeadline = this.#host.polledAt() + maxPollIntervalMs;
        if (this.#pollOverdue()) {
          await this.#leaveForSlowPoll();
          continue;
        }
        const { error, revocationsPending } = await this.#api.heartbeat(
          {
            groupId: this.#options.groupId,
            generationId: this.#generation,
            memberId: this.#memberId,
            maxWaitMs: this.#justJoined ? 0 : Math.min(interval, pollDeadline + 1 - this.#clock.now()),
          },
          { signal: this.#abort.signal },
        );
        this.#justJoined = false;
        if (this.#stopped) break;
        if (error !== undefined) await this.#onGroupError(error);
        else if (revocationsPending !== true && !this.#needsJoin && !this.#settled) this.#settle();
      } catch (error) {
        if (this.#stopped) break;
        this.#host.error(error);
        await this.#backoff();
      }
    }
  }

  /** One JoinGroup + SyncGroup round, and taking (or giving up) what it hands out. */
  async #joinRound(): Promise<void> {
    if (this.#pollOverdue()) return this.#leaveForSlowPoll();
    const subscription = this.#subscription;
    if ((this.#protocol.rebalance ?? 'eager') === 'eager' && this.#host.owned().length > 0) {
      await this.#keepAliveWhile(this.#host.revoke(() => this.#host.owned(), false));
      if (this.#stopped) return;
    }
    const owned = this.#host.owned();
    const protocols = await Promise.all(
      this.#options.assignors.map(async (a) => ({
        name: a.name,
        metadata: encodeSubscription({
          topics: this.#topics,
          owned,
          generationId: this.#generation,
          userData: (await a.userData?.({ topics: [...this.#topics], owned, generation: this.#generation })) ?? null,
        }),
      })),
    );
    const { groupId, clientId, sessionTimeoutMs, maxPollIntervalMs } = this.#options;
    const join = await this.#api.joinGroup({
      groupId,
      memberId: this.#memberId,
      groupInstanceId: null,
      clientId,
      clientHost: 'in-process',
      sessionTimeoutMs,
      rebalanceTimeoutMs: maxPollIntervalMs,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocols,
      requireKnownMemberId: true,
    });
    if (this.#stopped) {
      if (join.error === undefined) this.#memberId = join.memberId;
      return;
    }
    if (join.error === 'MEMBER_ID_REQUIRED') {
      this.#memberId = join.memberId;
      return;
    }
    if (join.error !== undefined) return this.#onGroupError(join.error);
    this.#memberId = join.memberId;
    // The join waited for the others; an application that stopped polling meanwhile is out (not in at the next poll).
    if (this.#pollOverdue()) return this.#leaveForSlowPoll();
    this.#generation = join.generationId;
    this.#protocol = this.#options.assignors.find((a) => a.name === join.protocolName) ?? this.#protocol;
    const assignments = join.leader === join.memberId ? await this.#assign(join) : [];
    const sync = await this.#api.syncGroup({
      groupId,
      generationId: join.generationId,
      memberId: join.memberId,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName: join.protocolName,
      assignments,
    });
    if (this.#stopped) return;
    if (sync.error !== undefined) return this.#onGroupError(sync.error);
    const given = decodeAssignment(sync.assignment).partitions;
    const keep = new Set(given.map((tp) => tpKey(tp.topic, tp.partition)));
    const revoked = this.#host.owned().filter((tp) => !keep.has(tpKey(tp.topic, tp.partition)));
    // Cooperative: what moves is given up now, and one more rebalance hands it to its new owner.
    if (revoked.length > 0) await this.#keepAliveWhile(this.#host.revoke(() => revoked, false));
    const held = new Set(this.#host.owned().map((tp) => tpKey(tp.topic, tp.partition)));
    const added = given.filter((tp) => !held.has(tpKey(tp.topic, tp.partition)));
    if (added.length > 0) await this.#host.take(added);
    this.#onJoin({ generationId: join.generationId, memberId: join.memberId, leaderId: join.leader, protocol: join.protocolName ?? '', assignment: given });
    // Settled once a heartbeat says no other member is still to give up partitions (cooperative).
    this.#needsJoin = revoked.length > 0 || subscription !== this.#subscription;
    this.#justJoined = true;
  }

  #settle(): void {
    this.#settled = true;
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  /**
   * Heartbeats every interval while `work` (a revocation waiting for the application's next poll)
   * runs, as Java's heartbeat thread does: the session stays alive, and the rebalance timeout
   * (`maxPollIntervalMs`) alone decides how long the group waits for this member.
   */
  async #keepAliveWhile(work: Promise<void>): Promise<void> {
    let done = false;
    const finished = work.then(
      () => void (done = true),
      () => void (done = true),
    );
    const interval = Math.max(1, Math.floor(this.#options.sessionTimeoutMs / 3));
    const keepAlive = (async () => {
      while (!done && !this.#stopped && this.#memberId !== '') {
        let timer: ReturnType<Clock['setTimeout']> | undefined;
        await Promise.race([new Promise<void>((resolve) => (timer = this.#clock.setTimeout(resolve, interval))), finished, this.#stoppedSignal()]);
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        if (done || this.#stopped) break;
        await this.#api
          .heartbeat({ groupId: this.#options.groupId, generationId: this.#generation, memberId: this.#memberId, maxWaitMs: 0 })
          .catch(() => undefined);
      }
    })();
    await work;
    await keepAlive;
  }

  /** The leader's part: every member's share from the chosen assignor, as assignment bytes. */
  async #assign(join: JoinGroupResponse): Promise<{ memberId: string; assignment: Uint8Array }[]> {
    const members: AssignorMember[] = join.members.map((m) => {
      const s = decodeSubscription(m.metadata);
      return { memberId: m.memberId, topics: s.topics, owned: s.owned, userData: s.userData };
    });
    const topics = [...new Set(members.flatMap((m) => m.topics))];
    const { topics: found } = topics.length === 0 ? { topics: [] } : await this.#api.metadata({ topics, allowAutoTopicCreation: false });
    const partitionCounts = new Map(found.map((t) => [t.name, t.partitionCount]));
    const assignor = this.#protocol;
    const result = await assignor.assign({ members, partitionCounts });
    if (!(result instanceof Map)) throw invalidArgument(`assignor ${show(assignor.name)} must return a Map of member id to partitions (got ${show(result)})`);
    const partitions = new Map<string, TopicPartition[]>();
    const userData = new Map<string, Uint8Array | null>();
    for (const m of members) {
      const share = result.get(m.memberId) ?? [];
      partitions.set(m.memberId, Array.isArray(share) ? share : share.partitions);
      userData.set(m.memberId, Array.isArray(share) ? null : (share.userData ?? null));
    }
    const shares = (assignor.rebalance ?? 'eager') === 'cooperative' ? withoutPartitionsHeldElsewhere(partitions, members) : partitions;
    return members.map((m) => ({ memberId: m.memberId, assignment: encodeAssignment({ partitions: shares.get(m.memberId)!, userData: userData.get(m.memberId)! }) }));
  }

  async #onGroupError(error: GroupError): Promise<void> {
    switch (error) {
      case 'REBALANCE_IN_PROGRESS':
      case 'ILLEGAL_GENERATION':
        this.#needsJoin = true;
        return;
      case 'UNKNOWN_MEMBER_ID':
        // Removed (it timed out or left): whatever it held is lost; join again as a new member.
        await this.#loseAll();
        return;
      default: {
        const offered = this.#options.assignors.map((a) => a.name).join(', ');
        const why =
          error === 'INCONSISTENT_GROUP_PROTOCOL'
            ? ` — no protocol in common: this member offers ${offered}, and the group's members none of them (or hold it on kafkalite's consumer protocol). Clients name their assignors differently (KafkaJS' round robin is "RoundRobinAssigner"): give every member one name in common.`
            : '';
        const failure = new KafkaliteError('INVALID_ARGUMENT', `group ${show(this.#options.groupId)} refused this member: ${error}${why}`, { cause: { groupError: error } });
        this.#needsJoin = true;
        this.#rejectWaiters(failure);
        this.#host.error(failure);
        await this.#backoff();
      }
    }
  }

  async #loseAll(): Promise<void> {
    this.#memberId = '';
    this.#generation = -1;
    this.#needsJoin = true;
    this.#settled = false;
    if (this.#host.owned().length > 0) await this.#host.revoke(() => this.#host.owned(), true);
  }

  /** Past the deadline, not at it: a poll in that very millisecond still counts. */
  #pollOverdue(): boolean {
    return this.#clock.now() > this.#host.polledAt() + this.#options.maxPollIntervalMs;
  }

  /** Java's consumer leaves the group when the application stops polling, and joins again at its next poll. */
  async #leaveForSlowPoll(): Promise<void> {
    const memberId = this.#memberId;
    if (memberId !== '') await this.#leaveAs(memberId);
    await this.#loseAll();
    await Promise.race([this.#host.nextPoll(), this.#stoppedSignal()]);
  }

  #backoff(): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => this.#clock.setTimeout(resolve, this.#options.retryBackoffMs)), this.#stoppedSignal()]);
  }

  #stoppedSignal(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stopped) resolve();
      else this.#onStop.push(resolve);
    });
  }

  #rejectWaiters(error: unknown): void {
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}
