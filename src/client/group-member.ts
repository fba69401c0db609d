import type { Clock } from '../clock.js';
import { closed } from '../errors.js';
import type { TopicPartition } from '../types.js';
import type { AssignorFunction, KafkaApi } from '../seam/kafka-api.js';
import type { MemberHost, Membership, MembershipOptions } from './membership.js';

export interface MemberOptions extends MembershipOptions {
  assignor: string | AssignorFunction;
}

/**
 * A consumer's membership in its group on the consumer protocol: joins, then keeps one heartbeat in flight that the
 * coordinator answers at once when the member must revoke or may take partitions (and otherwise
 * every third of the session timeout, Kafka's heartbeat interval). Revocations go through the
 * host, which applies them only at a safe point (no handler running on them, no polled records
 * still being processed), commits, and only then reports them released.
 *
 * Concurrency: one heartbeat loop per member; `subscribe` calls may overlap it and each other: the
 * member joins once (a subscription changed while the join is in flight goes out with the first
 * heartbeat), and the last subscription wins.
 */
export class GroupMember implements Membership {
  #api: KafkaApi;
  #clock: Clock;
  #options: MemberOptions;
  #host: MemberHost;
  #memberId: string | undefined;
  #topics: string[] = [];
  #topicsChanged = false;
  /** Bumped by every subscribe: only an answer to the latest subscription can settle it. */
  #subscription = 0;
  #generation = 0;
  #settled = false;
  #waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  /** The first join, while in flight. */
  #joining: Promise<void> | undefined;
  #revoking: Promise<void> | undefined;
  /** What the coordinator still wants revoked: read when the host reaches its safe point. */
  #toRevoke: TopicPartition[] = [];
  /** The poll time the coordinator last heard of. */
  #reportedPolledAt = -Infinity;
  #stopped = false;
  #onStop: (() => void)[] = [];

  constructor(api: KafkaApi, clock: Clock, options: MemberOptions, host: MemberHost) {
    this.#api = api;
    this.#clock = clock;
    this.#options = options;
    this.#host = host;
  }

  get memberId(): string | undefined {
    return this.#memberId;
  }

  /** The consumer protocol fences commits by what a member holds, not by generation. */
  get generationId(): undefined {
    return undefined;
  }

  /** Resolves once the member holds exactly its assignment (at once if it does now). */
  async whenSettled(): Promise<void> {
    if (this.#stopped) throw closed('consumer');
    if (this.#settled && this.#memberId !== undefined) {
      // Settled as of the last heartbeat; the coordinator may know better (a member joined since).
      const r = await this.#api.consumerGroupHeartbeat({
        groupId: this.#options.groupId,
        memberId: this.#memberId,
        owned: this.#host.owned(),
        polledAt: this.#host.polledAt(),
        generation: this.#generation,
        settled: true,
        revoking: false,
        maxWaitMs: 0,
      });
      if (r.error === undefined && r.settled && r.revoke.length === 0 && r.assign.length === 0 && this.#settled) return;
      this.#settled = false;
      this.#poke(); // the loop's next heartbeat meets the same answer and acts on it
    }
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Joins (or changes the subscription) and resolves once this member holds its assignment. */
  subscribe(topics: string[]): Promise<void> {
    if (this.#stopped) return Promise.reject(closed('consumer'));
    const settled = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#settled = false;
    this.#topics = [...topics];
    this.#subscription++;
    if (this.#memberId !== undefined) {
      this.#topicsChanged = true;
      this.#poke();
    } else if (this.#joining !== undefined) {
      this.#topicsChanged = true; // the join in flight carries older topics: the first heartbeat corrects them
    } else {
      const joining = this.#join().then(() => {
        if (!this.#stopped) this.#loop ??= this.#heartbeats();
      });
      this.#joining = joining;
      joining.then(
        () => (this.#joining = undefined),
        (error: unknown) => {
          this.#joining = undefined;
          this.#rejectWaiters(error);
        },
      );
    }
    return settled;
  }

  async #join(): Promise<void> {
    const { groupId, clientId, assignor, sessionTimeoutMs, maxPollIntervalMs } = this.#options;
    const custom = typeof assignor === 'function' ? assignor : undefined;
    const { memberId } = await this.#api.consumerGroupJoin(
      { groupId, clientId, topics: this.#topics, assignor: custom === undefined ? (assignor as string) : 'custom', sessionTimeoutMs, maxPollIntervalMs },
      { assignor: custom },
    );
    this.#memberId = memberId;
    this.#generation = 0;
    this.#settled = false;
  }

  /**
   * The host polled. The coordinator hears of polls only through heartbeats: when the deadline
   * it knows (last reported poll + maxPollIntervalMs) falls before the next regular heartbeat,
   * one goes now, so a member that polls in time is never removed for not polling.
   */
  polled(now: number): void {
    if (this.#memberId === undefined || this.#stopped) return;
    if (this.#reportedPolledAt + this.#options.maxPollIntervalMs <= now + this.#interval()) this.#poke();
  }

  #interval(): number {
    return Math.max(1, Math.floor(this.#options.sessionTimeoutMs / 3));
  }

  /** Ends the current heartbeat wait, so news (a subscription change, a poll) goes out now. */
  #poke(): void {
    this.#abort.abort();
    this.#abort = new AbortController();
  }

  async #heartbeats(): Promise<void> {
    const interval = this.#interval();
    while (!this.#stopped) {
      try {
        const topics = this.#topicsChanged ? this.#topics : undefined;
        this.#reportedPolledAt = this.#host.polledAt();
        const subscription = this.#subscription;
        this.#topicsChanged = false;
        const response = await this.#api.consumerGroupHeartbeat(
          {
            groupId: this.#options.groupId,
            memberId: this.#memberId!,
            owned: this.#host.owned(),
            topics,
            polledAt: this.#host.polledAt(),
            generation: this.#generation,
            settled: this.#settled,
            revoking: this.#revoking !== undefined,
            maxWaitMs: interval,
          },
          { signal: this.#abort.signal },
        );
        if (this.#stopped) break;
        if (response.error === 'UNKNOWN_MEMBER_ID') {
          // Removed (it stopped polling or heartbeating): whatever it held is lost; join again.
          await this.#revoking;
          await this.#host.revoke(() => this.#host.owned(), true);
          await Promise.race([this.#host.nextPoll(), this.#stoppedSignal()]);
          if (this.#stopped) break;
          await this.#join();
          continue;
        }
        this.#generation = response.generation;
        this.#toRevoke = response.revoke;
        if (response.revoke.length > 0 && this.#revoking === undefined) {
          // Released at the host's next safe point (what is still to revoke by then); heartbeats
          // go on meanwhile.
          this.#settled = false;
          this.#revoking = this.#host
            .revoke(() => this.#toRevoke, false)
            .catch((error: unknown) => this.#host.error(error))
            .finally(() => {
              this.#revoking = undefined;
              this.#poke();
            });
        }
        if (response.assign.length > 0) {
          this.#settled = false;
          await this.#host.take(response.assign);
          continue;
        }
        if (this.#revoking !== undefined || subscription !== this.#subscription) continue;
        this.#settled = response.settled;
        if (this.#settled) this.#resolveWaiters();
      } catch (error) {
        if (this.#stopped) break;
        this.#host.error(error);
        await Promise.race([
          new Promise<void>((resolve) => this.#clock.setTimeout(resolve, this.#options.retryBackoffMs)),
          this.#stoppedSignal(),
        ]);
      }
    }
  }

  #stoppedSignal(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stopped) resolve();
      else this.#onStop.push(resolve);
    });
  }

  #resolveWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  #rejectWaiters(error: unknown): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(error);
  }

  /**
   * Leaves the group (after the host committed) and stops heartbeating. Safe to call twice. A
   * join still in flight is let finish and then left, so no member is left behind in the group.
   */
  async leave(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    for (const resolve of this.#onStop.splice(0)) resolve();
    this.#rejectWaiters(closed('consumer'));
    await this.#joining?.catch(() => undefined);
    const left = this.#memberId;
    if (left !== undefined) await this.#leaveAs(left);
    await this.#loop?.catch(() => undefined);
    // The loop may have rejoined (after a removal) while the first leave was out.
    if (this.#memberId !== undefined && this.#memberId !== left) await this.#leaveAs(this.#memberId);
  }

  #leaveAs(memberId: string): Promise<void> {
    return this.#api.leaveGroup({ groupId: this.#options.groupId, memberId }).catch(() => undefined);
  }
}
