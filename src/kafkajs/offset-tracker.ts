/**
 * A running consumer's offsets, as KafkaJS' offset manager keeps them: per partition the
 * *resolved* offset (the next one to consume: the last processed + 1) and the last *committed*
 * one, so that a commit sends only what moved.
 */

import { tpKey } from '../types.js';
import type { OffsetsByTopicPartition, TopicOffsets } from './types.js';

interface Entry {
  topic: string;
  partition: number;
  resolved: number | undefined;
  committed: number | undefined;
}

/** Concurrency: single-threaded state of one run session; its clock is the cluster's (`now`). */
export class OffsetTracker {
  #entries = new Map<string, Entry>();
  #now: () => number;
  /** When offsets were last committed (for `autoCommitInterval`), on the cluster's clock. */
  lastCommit: number;

  constructor(now: () => number) {
    this.#now = now;
    this.lastCommit = now();
  }

  #entry(topic: string, partition: number): Entry {
    let e = this.#entries.get(tpKey(topic, partition));
    if (e === undefined) this.#entries.set(tpKey(topic, partition), (e = { topic, partition, resolved: undefined, committed: undefined }));
    return e;
  }

  /** Where a partition's first fetch started: the committed offset, or where the reset put it. */
  baseline(topic: string, partition: number, offset: number): void {
    const e = this.#entry(topic, partition);
    e.committed ??= offset;
  }

  /** `offset` was processed: the next offset to consume is `offset + 1`. */
  resolve(topic: string, partition: number, offset: number): void {
    this.#entry(topic, partition).resolved = offset + 1;
  }

  /** The next offset to consume is `next` (a seek while auto-commit is off). */
  setNext(topic: string, partition: number, next: number): void {
    this.#entry(topic, partition).resolved = next;
  }

  resolved(topic: string, partition: number): number | undefined {
    return this.#entries.get(tpKey(topic, partition))?.resolved;
  }

  /** Resolved offsets not committed yet, grouped per topic, partitions ascending. */
  uncommitted(): OffsetsByTopicPartition {
    const byTopic = new Map<string, Entry[]>();
    for (const e of this.#entries.values()) {
      if (e.resolved === undefined || e.resolved < 0 || e.resolved === e.committed) continue;
      byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), e]);
    }
    return {
      topics: [...byTopic].map(([topic, entries]) => ({
        topic,
        partitions: entries.sort((a, b) => a.partition - b.partition).map((e) => ({ partition: e.partition, offset: String(e.resolved) })),
      })),
    };
  }

  /** How many offsets were resolved since the last commit (for `autoCommitThreshold`). */
  countResolved(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.resolved !== undefined) n += e.resolved - (e.committed ?? 0);
    return n;
  }

  markCommitted(topics: TopicOffsets[]): void {
    for (const { topic, partitions } of topics) {
      for (const { partition, offset } of partitions) this.#entry(topic, partition).committed = Number(offset);
    }
    this.lastCommit = this.#now();
  }

  /** A seek was committed: both offsets are where it points. */
  seeked(topic: string, partition: number, offset: number): void {
    const e = this.#entry(topic, partition);
    e.committed = offset;
    e.resolved = undefined;
  }

  /** The partition was revoked: what is known of it is stale. */
  forget(topic: string, partition: number): void {
    this.#entries.delete(tpKey(topic, partition));
  }
}
