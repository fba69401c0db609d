import { randomUUID } from 'node:crypto';
import type { Clock, ClockTimer } from '../clock.js';
import type {
  GroupError,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../seam/kafka-api.js';
import { tpKey, type TopicPartition } from '../types.js';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription } from './consumer-protocol.js';
import type { GroupStateName } from './group-state.js';

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Uint8Array }[];
  /** From the leader's SyncGroup; empty until then. */
  assignment: Uint8Array;
  /** The member's JoinGroup, waiting for the rebalance to complete. */
  awaitingJoin: ((response: JoinGroupResponse) => void) | undefined;
  /** The member's SyncGroup, waiting for the leader's. */
  awaitingSync: ((response: SyncGroupResponse) => void) | undefined;
  /** Wakes the member's waiting (in-process, long-polled) heartbeat. */
  wakeHeartbeat: (() => void) | undefined;
  lastHeartbeat: number;
}

const EMPTY = new Uint8Array(0);

/**
 * A consumer group on Kafka's classic protocol, as Kafka's `GroupCoordinator` runs one: members
 * join (JoinGroup) with the protocols they support; a rebalance waits until every member has
 * rejoined (or its rebalance timeout passed), then picks the protocol all members support (by
 * their votes), makes a leader, and answers every join; the leader runs the assignor and sends
 * every member's assignment with its SyncGroup, which the coordinator hands out. Heartbeats keep
 * members alive within their session timeout and tell them, with `REBALANCE_IN_PROGRESS`, to
 * rejoin.
 *
 * States: `Empty` → `PreparingRebalance` (waiting for joins) → `CompletingRebalance` (waiting for
 * the leader's SyncGroup) → `Stable`; any join, leave or expiry goes back to `PreparingRebalance`.
 * No initial rebalance delay (Kafka's `group.initial.rebalance.delay.ms` is 0 here): in one
 * process members join in microseconds.
 *
 * Concurrency: single-threaded; every method changes the state synchronously and answers through
 * the promise it returns (JoinGroup and SyncGroup once the group gets there).
 */
export class ClassicGroup {
  readonly id: string;
  generation = 0;
  #state: GroupStateName = 'Empty';
  protocolType: string | null = null;
  protocolName: string | null = null;
  leader: string | null = null;
  #members = new Map<string, Member>();
  /** Ids handed out with `MEMBER_ID_REQUIRED`, until joined with or expired. */
  #pending = new Map<string, number>();
  #clock: Clock;
  #rebalanceTimer: ClockTimer | undefined;
  #expiry: ClockTimer | undefined;
  #expiryAt = Infinity;
  /** After the leader's SyncGroup: some member still holds a partition it was not given (see HeartbeatResponse). */
  #revocationsPending = false;

  constructor(id: string, clock: Clock) {
    this.id = id;
    this.#clock = clock;
  }

  /**
   * The state as kafkalite's admin view shows it (as for consumer-protocol groups): between the
   * two rounds of a cooperative rebalance — Stable for Kafka, while a member still gives
   * partitions up — it is `PreparingRebalance`. {@link protocolState} is Kafka's.
   */
  get state(): GroupStateName {
    return this.#state === 'Stable' && this.#revocationsPending ? 'PreparingRebalance' : this.#state;
  }

  /** The state as Kafka's coordinator has it (DescribeGroups). */
  get protocolState(): GroupStateName {
    return this.#state;
  }

  get size(): number {
    return this.#members.size;
  }

  join(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    const fail = (error: GroupError, memberId = request.memberId): Promise<JoinGroupResponse> =>
      Promise.resolve({ error, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] });
    if (this.#state === 'Dead') return fail('COORDINATOR_NOT_AVAILABLE');
    if (request.protocolType.length === 0 || request.protocols.length === 0) return fail('INCONSISTENT_GROUP_PROTOCOL');
    if (this.#members.size > 0 && (request.protocolType !== this.protocolType || !this.#supportsCommonProtocol(request))) {
      return fail('INCONSISTENT_GROUP_PROTOCOL');
    }
    if (!Number.isSafeInteger(request.sessionTimeoutMs) || request.sessionTimeoutMs < 1) return fail('INVALID_SESSION_TIMEOUT');
    const now = this.#clock.now();
    let member: Member | undefined;
    if (request.memberId === '') {
      const memberId = `${request.clientId}-${randomUUID()}`;
      if (request.requireKnownMemberId) {
        this.#pending.set(memberId, now + request.sessionTimeoutMs);
        this.#scheduleExpiry();
        return fail('MEMBER_ID_REQUIRED', memberId);
      }
      member = this.#add(memberId, request);
    } else {
      member = this.#members.get(request.memberId);
      if (member === undefined) {
        if (!this.#pending.delete(request.memberId)) return fail('UNKNOWN_MEMBER_ID');
        member = this.#add(request.memberId, request);
      } else if (this.#rejoinWithoutRebalance(member, request)) {
        return Promise.resolve(this.#joinResponse(member));
      } else {
        member.protocols = request.protocols.map((p) => ({ name: p.name, metadata: p.metadata }));
        member.sessionTimeoutMs = request.sessionTimeoutMs;
        member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
        member.lastHeartbeat = now;
      }
    }
    // A member that joins again while an answer is out replaces it: the old request is stale.
    member.awaitingJoin?.({ error: 'UNKNOWN_MEMBER_ID', generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: member.memberId, members: [] });
    const joined = new Promise<JoinGroupResponse>((resolve) => (member.awaitingJoin = resolve));
    if (this.#state !== 'PreparingRebalance') this.#prepareRebalance();
    this.#maybeCompleteJoin();
    return joined;
  }

  sync(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    const fail = (error: GroupError): Promise<SyncGroupResponse> =>
      Promise.resolve({ error, protocolType: null, protocolName: null, assignment: EMPTY });
    const member = this.#members.get(request.memberId);
    if (member === undefined) return fail('UNKNOWN_MEMBER_ID');
    if (request.generationId !== this.generation) return fail('ILLEGAL_GENERATION');
    if ((request.protocolType !== null && request.protocolType !== this.protocolType) || (request.protocolName !== null && request.protocolName !== this.protocolName)) {
      return fail('INCONSISTENT_GROUP_PROTOCOL');
    }
    if (this.#state === 'PreparingRebalance') return fail('REBALANCE_IN_PROGRESS');
    member.lastHeartbeat = this.#clock.now();
    if (this.#state === 'Stable') return Promise.resolve(this.#syncResponse(member));
    // CompletingRebalance: wait for the leader's assignments.
    member.awaitingSync?.({ error: 'REBALANCE_IN_PROGRESS', protocolType: null, protocolName: null, assignment: EMPTY });
    const synced = new Promise<SyncGroupResponse>((resolve) => (member.awaitingSync = resolve));
    if (request.memberId === this.leader) {
      const given = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
      for (const m of this.#members.values()) m.assignment = given.get(m.memberId) ?? EMPTY;
      this.#state = 'Stable';
      this.#revocationsPending = this.#findRevocationsPending();
      for (const m of this.#members.values()) {
        const reply = m.awaitingSync;
        m.awaitingSync = undefined;
        reply?.(this.#syncResponse(m));
      }
    }
    return synced;
  }

  /** Answers at once unless `maxWaitMs` > 0, the member is fine, and nothing happens meanwhile. */
  async heartbeat(request: HeartbeatRequest, signal?: AbortSignal): Promise<HeartbeatResponse> {
    const deadline = this.#clock.now() + request.maxWaitMs;
    for (;;) {
      const member = this.#members.get(request.memberId);
      if (member === undefined) return { error: 'UNKNOWN_MEMBER_ID' };
      if (request.generationId !== this.generation) return { error: 'ILLEGAL_GENERATION' };
      member.lastHeartbeat = this.#clock.now();
      this.#scheduleExpiry();
      if (this.#state === 'PreparingRebalance') return { error: 'REBALANCE_IN_PROGRESS' };
      const left = deadline - this.#clock.now();
      if (left <= 0 || signal?.aborted) return this.#revocationsPending ? { revocationsPending: true } : {};
      await this.#waitForNews(member, left, signal);
    }
  }

  #waitForNews(member: Member, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        if (member.wakeHeartbeat === wake) member.wakeHeartbeat = undefined;
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      member.wakeHeartbeat = wake;
      const timer = this.#clock.setTimeout(wake, ms);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  leave(memberId: string): boolean {
    const member = this.#members.get(memberId);
    if (member === undefined) return this.#pending.delete(memberId);
    this.#remove(member);
    this.#afterRemoval();
    return true;
  }

  /**
   * Kafka's offset-commit checks for this group: a member commits in its current generation
   * (also while a rebalance waits for joins, so it can commit what it revokes); anyone else only
   * while the group is empty.
   */
  commitError(memberId: string | undefined, generationId: number | undefined): GroupError | undefined {
    if (memberId === undefined || memberId === '' || generationId === undefined || generationId < 0) {
      return this.#members.size === 0 ? undefined : 'UNKNOWN_MEMBER_ID';
    }
    if (!this.#members.has(memberId)) return 'UNKNOWN_MEMBER_ID';
    if (generationId !== this.generation) return 'ILLEGAL_GENERATION';
    if (this.#state === 'CompletingRebalance') return 'REBALANCE_IN_PROGRESS';
    return undefined;
  }

  /** A subscribed topic changed (created, grown, deleted): members must rejoin to see it. */
  rebalance(): void {
    if (this.#state === 'Stable' || this.#state === 'CompletingRebalance') this.#prepareRebalance();
  }

  /** For DescribeGroups and the admin view. */
  describe(): {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Uint8Array;
    assignment: Uint8Array;
  }[] {
    return [...this.#members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: this.#metadataFor(m) ?? EMPTY,
      assignment: m.assignment,
    }));
  }

  /** Members as the admin view shows them: assignments decoded when the consumer protocol is in use. */
  members(): { memberId: string; clientId: string; assignment: TopicPartition[] }[] {
    return [...this.#members.values()].map((m) => ({ memberId: m.memberId, clientId: m.clientId, assignment: this.#decodedAssignment(m) }));
  }

  /** Topics the members subscribe to, when they speak the consumer protocol. */
  subscribedTopics(): Set<string> {
    const topics = new Set<string>();
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return topics;
    for (const m of this.#members.values()) {
      const metadata = this.#metadataFor(m);
      if (metadata === undefined) continue;
      try {
        for (const t of decodeSubscription(metadata).topics) topics.add(t);
      } catch {
        // a client's own bytes: what cannot be read subscribes to nothing kafkalite can see
      }
    }
    return topics;
  }

  /** Ends the group (broker closed, group deleted): waiting requests are told the coordinator is gone. */
  close(dead: boolean): void {
    for (const timer of [this.#rebalanceTimer, this.#expiry]) if (timer !== undefined) this.#clock.clearTimeout(timer);
    this.#rebalanceTimer = this.#expiry = undefined;
    for (const m of [...this.#members.values()]) {
      this.#remove(m, 'COORDINATOR_NOT_AVAILABLE');
    }
    this.#pending.clear();
    if (dead) this.#state = 'Dead';
  }

  // ---- rebalancing ------------------------------------------------------------------------------

  #add(memberId: string, request: JoinGroupRequest): Member {
    const member: Member = {
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
      assignment: EMPTY,
      awaitingJoin: undefined,
      awaitingSync: undefined,
      wakeHeartbeat: undefined,
      lastHeartbeat: this.#clock.now(),
    };
    if (this.#members.size === 0) this.protocolType = request.protocolType;
    this.#members.set(memberId, member);
    return member;
  }

  /**
   * A known member joining again with the same protocols needs no rebalance when the group is
   * settled (Stable, not the leader) or still completing: it gets the current generation's answer.
   */
  #rejoinWithoutRebalance(member: Member, request: JoinGroupRequest): boolean {
    if (this.#state !== 'Stable' && this.#state !== 'CompletingRebalance') return false;
    if (this.#state === 'Stable' && member.memberId === this.leader) return false;
    if (member.protocols.length !== request.protocols.length) return false;
    return member.protocols.every((p, i) => p.name === request.protocols[i]!.name && equalBytes(p.metadata, request.protocols[i]!.metadata));
  }

  #supportsCommonProtocol(request: JoinGroupRequest): boolean {
    const offered = new Set(request.protocols.map((p) => p.name));
    for (const name of this.#candidates()) if (offered.has(name)) return true;
    return false;
  }

  /** Protocols every member supports. */
  #candidates(): Set<string> {
    let common: Set<string> | undefined;
    for (const m of this.#members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      common = common === undefined ? names : new Set([...common].filter((n) => names.has(n)));
    }
    return common ?? new Set();
  }

  /** Kafka's vote: each member votes for its most preferred candidate; the most votes win (ties: the first in vote order). */
  #selectProtocol(): string | null {
    const candidates = this.#candidates();
    const votes = new Map<string, number>();
    for (const m of this.#members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name))?.name;
      if (choice !== undefined) votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best: string | null = null;
    let most = 0;
    for (const [name, n] of votes) {
      if (n > most) {
        best = name;
        most = n;
      }
    }
    return best;
  }

  /** Whether a member holds (by its subscription) a partition its new assignment lacks: it will give it up and rejoin. */
  #findRevocationsPending(): boolean {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return false;
    try {
      for (const m of this.#members.values()) {
        const metadata = this.#metadataFor(m);
        if (metadata === undefined) continue;
        const owned = decodeSubscription(metadata).owned;
        if (owned.length === 0) continue;
        const kept = new Set(decodeAssignment(m.assignment).partitions.map((tp) => tpKey(tp.topic, tp.partition)));
        if (owned.some((tp) => !kept.has(tpKey(tp.topic, tp.partition)))) return true;
      }
    } catch {
      // a client's own bytes: what cannot be read is not waited for
    }
    return false;
  }

  #prepareRebalance(): void {
    this.#revocationsPending = false;
    // Members waiting for the leader's assignments must rejoin instead.
    for (const m of this.#members.values()) {
      const reply = m.awaitingSync;
      m.awaitingSync = undefined;
      reply?.({ error: 'REBALANCE_IN_PROGRESS', protocolType: null, protocolName: null, assignment: EMPTY });
    }
    this.#state = 'PreparingRebalance';
    for (const m of this.#members.values()) m.wakeHeartbeat?.();
    if (this.#rebalanceTimer !== undefined) this.#clock.clearTimeout(this.#rebalanceTimer);
    let timeout = 0;
    for (const m of this.#members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    this.#rebalanceTimer = this.#clock.setTimeout(() => {
      this.#rebalanceTimer = undefined;
      this.#completeJoin();
    }, timeout);
    this.#rebalanceTimer.unref?.();
  }

  #maybeCompleteJoin(): void {
    if (this.#state !== 'PreparingRebalance') return;
    for (const m of this.#members.values()) if (m.awaitingJoin === undefined) return;
    this.#completeJoin();
  }

  /** Every member rejoined (or the rebalance timed out: those that did not are out). */
  #completeJoin(): void {
    if (this.#state !== 'PreparingRebalance') return;
    if (this.#rebalanceTimer !== undefined) this.#clock.clearTimeout(this.#rebalanceTimer);
    this.#rebalanceTimer = undefined;
    for (const m of [...this.#members.values()]) if (m.awaitingJoin === undefined) this.#remove(m);
    this.generation++;
    if (this.#members.size === 0) {
      this.#toEmpty();
      return;
    }
    this.protocolName = this.#selectProtocol();
    if (this.leader === null || !this.#members.has(this.leader)) this.leader = this.#members.keys().next().value!;
    this.#state = 'CompletingRebalance';
    const now = this.#clock.now();
    for (const m of this.#members.values()) {
      m.lastHeartbeat = now;
      m.assignment = EMPTY;
      const reply = m.awaitingJoin!;
      m.awaitingJoin = undefined;
      reply(this.#joinResponse(m));
    }
    this.#scheduleExpiry();
  }

  #joinResponse(member: Member): JoinGroupResponse {
    const isLeader = member.memberId === this.leader;
    return {
      generationId: this.generation,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leader ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...this.#members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: this.#metadataFor(m) ?? EMPTY }))
        : [],
    };
  }

  #syncResponse(member: Member): SyncGroupResponse {
    return { protocolType: this.protocolType, protocolName: this.protocolName, assignment: member.assignment };
  }

  #metadataFor(member: Member): Uint8Array | undefined {
    const name = this.protocolName ?? member.protocols[0]?.name;
    return member.protocols.find((p) => p.name === name)?.metadata;
  }

  #decodedAssignment(member: Member): TopicPartition[] {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.#state !== 'Stable') return [];
    try {
      return decodeAssignment(member.assignment).partitions;
    } catch {
      return [];
    }
  }

  #remove(member: Member, error: GroupError = 'UNKNOWN_MEMBER_ID'): void {
    this.#members.delete(member.memberId);
    if (this.leader === member.memberId) this.leader = null;
    member.awaitingJoin?.({ error, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: member.memberId, members: [] });
    member.awaitingSync?.({ error, protocolType: null, protocolName: null, assignment: EMPTY });
    member.awaitingJoin = member.awaitingSync = undefined;
    member.wakeHeartbeat?.();
  }

  /** After members left or expired: a rebalance, or the group is empty. */
  #afterRemoval(): void {
    if (this.#members.size === 0) {
      if (this.#state !== 'Empty' && this.#state !== 'Dead') {
        this.generation++;
        this.#toEmpty();
      }
      return;
    }
    if (this.#state === 'PreparingRebalance') this.#maybeCompleteJoin();
    else this.#prepareRebalance();
  }

  #toEmpty(): void {
    if (this.#rebalanceTimer !== undefined) this.#clock.clearTimeout(this.#rebalanceTimer);
    this.#rebalanceTimer = undefined;
    this.#state = 'Empty';
    this.protocolType = this.protocolName = this.leader = null;
  }

  // ---- session timeouts ---------------------------------------------------------------------------

  #deadline(m: Member): number {
    // A member waiting in JoinGroup is kept by the rebalance timeout, not its session.
    return m.awaitingJoin !== undefined ? Infinity : m.lastHeartbeat + m.sessionTimeoutMs;
  }

  #scheduleExpiry(): void {
    let next = Infinity;
    for (const m of this.#members.values()) next = Math.min(next, this.#deadline(m));
    for (const at of this.#pending.values()) next = Math.min(next, at);
    if (next === Infinity || next >= this.#expiryAt) return;
    if (this.#expiry !== undefined) this.#clock.clearTimeout(this.#expiry);
    this.#expiryAt = next;
    this.#expiry = this.#clock.setTimeout(() => this.#expire(), Math.max(0, next - this.#clock.now()));
    this.#expiry.unref?.();
  }

  #expire(): void {
    this.#expiry = undefined;
    this.#expiryAt = Infinity;
    const now = this.#clock.now();
    for (const [id, at] of this.#pending) if (now >= at) this.#pending.delete(id);
    let removed = false;
    for (const m of [...this.#members.values()]) {
      if (now >= this.#deadline(m)) {
        this.#remove(m);
        removed = true;
      }
    }
    if (removed) this.#afterRemoval();
    this.#scheduleExpiry();
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
