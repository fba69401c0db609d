import type { TopicPartition } from '../types.js';

/** What a member asks of the consumer that owns it. */
export interface MemberHost {
  /** The partitions the consumer holds now. */
  owned(): TopicPartition[];
  /** When the consumer last polled or finished a handler. */
  polledAt(): number;
  /**
   * Gives partitions up at a safe point (committing first, unless `lost`): those `partitions()`
   * names then — what the coordinator still wants by the time the host is ready.
   */
  revoke(partitions: () => TopicPartition[], lost: boolean): Promise<void>;
  /** Resolves the next time the application polls (Kafka rejoins a removed member only then). */
  nextPoll(): Promise<void>;
  /** Takes partitions: fixes their positions, then starts delivering them. */
  take(partitions: TopicPartition[]): Promise<void>;
  /** Reports a failure the loop survived. */
  error(error: unknown): void;
}

export interface MembershipOptions {
  groupId: string;
  clientId: string;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
  retryBackoffMs: number;
}

/**
 * A consumer's membership in its group, on either of Kafka's group protocols
 * ({@link GroupMember}: the consumer protocol; {@link ClassicMember}: the classic one).
 */
export interface Membership {
  /** Undefined until the coordinator gave one. */
  readonly memberId: string | undefined;
  /** The classic protocol's generation, sent with commits; undefined on the consumer protocol. */
  readonly generationId: number | undefined;
  /** Joins, or changes the subscription; resolves once the member holds its assignment. */
  subscribe(topics: string[]): Promise<void>;
  /** Resolves once the member holds exactly its assignment (at once if it does now). */
  whenSettled(): Promise<void>;
  /** The host polled (at `now`). */
  polled(now: number): void;
  /** Leaves the group and stops. Safe to call twice. */
  leave(): Promise<void>;
}
