import type { Clock, ClockTimer } from '../clock.js';
import type { AssignorFunction, ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, ConsumerGroupJoinRequest } from '../seam/kafka-api.js';
import { tpKey, type TopicPartition } from '../types.js';
import { assignors } from './assignors.js';

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

interface Member {
  memberId: string;
  clientId: string;
  topics: string[];
  assignor: string | AssignorFunction;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
  owned: TopicPartition[];
  ownedKeys: Set<string>;
  target: TopicPartition[];
  targetKeys: Set<string>;
  /** Eager assignors: the member must give up everything before anyone gets anything. */
  revokeAll: boolean;
  lastSeen: number;
  polledAt: number;
  /** Wakes the member's waiting heartbeat. */
  wake: (() => void) | undefined;
}

const key = (tp: TopicPartition): string => tpKey(tp.topic, tp.partition);
const EAGER = new Set(['range', 'roundrobin']);
let memberSeq = 0;

/**
 * One consumer group as the coordinator sees it: members, their subscriptions, the target
 * assignment of the current generation, and what each member really holds.
 *
 * A rebalance (on join, leave, timeout, subscription change or new partitions) bumps the
 * generation and computes new targets at once. Members then converge through heartbeats:
 * a member first revokes what it must (everything, for the eager `range` and `roundrobin`
 * assignors; only what moves, for `cooperative-sticky`), and a partition is handed to its new
 * owner only after the previous owner has reported it released. The states follow:
 * `PreparingRebalance` while revocations are outstanding, `CompletingRebalance` while
 * assignments are being taken up, then `Stable`.
 *
 * Concurrency: single-threaded; every method completes synchronously except the heartbeat wait.
 */
export class GroupState {
  readonly id: string;
  generation = 0;
  #members = new Map<string, Member>();
  #partitionCount: (topic: string) => number | undefined;
  #clock: Clock;
  #expiry: ClockTimer | undefined;
  #expiryAt = Infinity;
  #dead = false;

  constructor(id: string, clock: Clock, partitionCount: (topic: string) => number | undefined) {
    this.id = id;
    this.#clock = clock;
    this.#partitionCount = partitionCount;
  }

  get state(): GroupStateName {
    if (this.#dead) return 'Dead';
    if (this.#members.size === 0) return 'Empty';
    let completing = false;
    for (const m of this.#members.values()) {
      if (m.revokeAll && m.owned.length > 0) return 'PreparingRebalance';
      for (const k of m.ownedKeys) if (!m.targetKeys.has(k)) return 'PreparingRebalance';
      if (m.revokeAll || m.ownedKeys.size !== m.targetKeys.size) completing = true;
    }
    return completing ? 'CompletingRebalance' : 'Stable';
  }

  members(): { memberId: string; clientId: string; assignment: TopicPartition[] }[] {
    return [...this.#members.values()].map((m) => ({ memberId: m.memberId, clientId: m.clientId, assignment: m.owned.map(copy) }));
  }

  /** Topics some member subscribes to. */
  subscribedTopics(): Set<string> {
    const topics = new Set<string>();
    for (const m of this.#members.values()) for (const t of m.topics) topics.add(t);
    return topics;
  }

  /** Whether `memberId` holds (or is about to hold) the partition: commits from elsewhere are fenced. */
  mayCommit(memberId: string, tp: TopicPartition): boolean {
    const m = this.#members.get(memberId);
    return m !== undefined && (m.ownedKeys.has(key(tp)) || m.targetKeys.has(key(tp)));
  }

  /** `custom`: a function the member brought (in-process only), used when `request.assignor` is `custom`. */
  join(request: ConsumerGroupJoinRequest, custom?: AssignorFunction): string {
    const now = this.#clock.now();
    const memberId = `${request.clientId}-${++memberSeq}`;
    this.#members.set(memberId, {
      memberId,
      clientId: request.clientId,
      topics: [...request.topics],
      assignor: custom ?? request.assignor,
      sessionTimeoutMs: request.sessionTimeoutMs,
      maxPollIntervalMs: request.maxPollIntervalMs,
      owned: [],
      ownedKeys: new Set(),
      target: [],
      targetKeys: new Set(),
      revokeAll: false,
      lastSeen: now,
      polledAt: now,
      wake: undefined,
    });
    this.rebalance();
    return memberId;
  }

  /** Removes a member and rebalances; false when there is no such member. */
  leave(memberId: string): boolean {
    const m = this.#members.get(memberId);
    if (m === undefined) return false;
    this.#members.delete(memberId);
    m.wake?.();
    this.rebalance();
    return true;
  }

  /** Answers a member's heartbeat: at once when there is news for it, else after `maxWaitMs`. */
  async heartbeat(request: ConsumerGroupHeartbeatRequest, signal?: AbortSignal): Promise<ConsumerGroupHeartbeatResponse> {
    const m = this.#members.get(request.memberId);
    if (m === undefined) return { error: 'UNKNOWN_MEMBER_ID', generation: this.generation, revoke: [], assign: [], settled: false };
    m.lastSeen = this.#clock.now();
    m.polledAt = request.polledAt;
    this.#report(m, request.owned);
    if (request.topics !== undefined && !sameSet(request.topics, m.topics)) {
      m.topics = [...request.topics];
      this.rebalance();
    }
    this.#scheduleExpiry();
    const deadlineAt = this.#clock.now() + request.maxWaitMs;
    for (;;) {
      if (this.#members.get(m.memberId) !== m) {
        return { error: 'UNKNOWN_MEMBER_ID', generation: this.generation, revoke: [], assign: [], settled: false };
      }
      const response = this.#answer(m);
      const left = deadlineAt - this.#clock.now();
      if (news(response, request) || left <= 0 || signal?.aborted) return response;
      await this.#wait(m, left, signal);
    }
  }

  /** Waits for a wake, the timeout or the signal. */
  #wait(m: Member, ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        if (m.wake === wake) m.wake = undefined;
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      m.wake = wake;
      const timer = this.#clock.setTimeout(wake, ms);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** What the member must give up and may take, given what everyone holds now. */
  #answer(m: Member): ConsumerGroupHeartbeatResponse {
    const revoke = m.revokeAll ? m.owned.map(copy) : m.owned.filter((tp) => !m.targetKeys.has(key(tp)));
    const assign: TopicPartition[] = [];
    if (!this.#eagerRevocationPending()) {
      for (const tp of m.target) {
        const k = key(tp);
        if (!m.ownedKeys.has(k) && !this.#heldByOther(m, k)) assign.push(copy(tp));
      }
    }
    const settled = revoke.length === 0 && assign.length === 0 && !m.revokeAll && m.ownedKeys.size === m.targetKeys.size;
    return { generation: this.generation, revoke, assign, settled };
  }

  /** Records what a member holds now; partitions it released may unblock others. */
  #report(m: Member, owned: TopicPartition[]): void {
    const keys = new Set(owned.map(key));
    const released = [...m.ownedKeys].some((k) => !keys.has(k));
    m.owned = owned.map(copy);
    m.ownedKeys = keys;
    const doneRevoking = m.revokeAll && owned.length === 0;
    if (doneRevoking) m.revokeAll = false;
    // Others may now take what was released: tell them.
    if (released || doneRevoking) this.#wakeOthers(m);
  }

  #eagerRevocationPending(): boolean {
    for (const m of this.#members.values()) if (m.revokeAll) return true;
    return false;
  }

  #heldByOther(self: Member, k: string): boolean {
    for (const m of this.#members.values()) if (m !== self && m.ownedKeys.has(k)) return true;
    return false;
  }

  #wakeOthers(self: Member | undefined): void {
    for (const m of this.#members.values()) if (m !== self) m.wake?.();
  }

  /** A new generation: new targets for every member, computed now. */
  rebalance(): void {
    if (this.#dead) return;
    this.generation++;
    const members = [...this.#members.values()];
    if (members.length > 0) {
      const leader = members[0]!;
      const assign = typeof leader.assignor === 'function' ? leader.assignor : (assignors[leader.assignor as keyof typeof assignors] ?? assignors.range);
      const partitionCounts = new Map<string, number>();
      for (const m of members) {
        for (const t of m.topics) {
          const n = this.#partitionCount(t);
          if (n !== undefined) partitionCounts.set(t, n);
        }
      }
      const targets = assign({
        members: members.map((m) => ({ memberId: m.memberId, topics: [...m.topics], owned: m.owned.map(copy) })),
        partitionCounts,
      });
      const eager = typeof leader.assignor === 'string' && EAGER.has(leader.assignor);
      for (const m of members) {
        m.target = (targets.get(m.memberId) ?? []).map(copy);
        m.targetKeys = new Set(m.target.map(key));
        m.revokeAll = eager && m.owned.length > 0;
      }
    }
    this.#wakeOthers(undefined);
    this.#scheduleExpiry();
  }

  /** Removes members silent past `sessionTimeoutMs` or not polling within `maxPollIntervalMs`. */
  #expire(): void {
    this.#expiry = undefined;
    this.#expiryAt = Infinity;
    const now = this.#clock.now();
    let removed = false;
    for (const m of [...this.#members.values()]) {
      if (now >= deadline(m)) {
        this.#members.delete(m.memberId);
        m.wake?.();
        removed = true;
      }
    }
    if (removed) this.rebalance();
    else this.#scheduleExpiry();
  }

  #scheduleExpiry(): void {
    let next = Infinity;
    for (const m of this.#members.values()) next = Math.min(next, deadline(m));
    if (next === Infinity || next >= this.#expiryAt) return;
    if (this.#expiry !== undefined) this.#clock.clearTimeout(this.#expiry);
    this.#expiryAt = next;
    this.#expiry = this.#clock.setTimeout(() => this.#expire(), Math.max(0, next - this.#clock.now()));
    this.#expiry.unref?.();
  }

  /** Ends the group: members are woken and told they are unknown. */
  close(dead: boolean): void {
    if (this.#expiry !== undefined) this.#clock.clearTimeout(this.#expiry);
    this.#expiry = undefined;
    const members = [...this.#members.values()];
    this.#members.clear();
    this.#dead = dead;
    for (const m of members) m.wake?.();
  }
}

function deadline(m: Member): number {
  return Math.min(m.lastSeen + m.sessionTimeoutMs, m.polledAt + m.maxPollIntervalMs);
}

function news(response: ConsumerGroupHeartbeatResponse, request: ConsumerGroupHeartbeatRequest): boolean {
  return (
    (response.revoke.length > 0 && !request.revoking) ||
    response.assign.length > 0 ||
    response.generation !== request.generation ||
    (response.settled !== request.settled && !request.revoking)
  );
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

function copy(tp: TopicPartition): TopicPartition {
  return { topic: tp.topic, partition: tp.partition };
}
