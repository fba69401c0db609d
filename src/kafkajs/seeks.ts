/**
 * KafkaJS' `consumer.seek` on a running consumer, as KafkaJS' seek offsets: a seek is kept until
 * its partition is assigned; on an assigned partition it moves the kafkalite consumer at once
 * (`-2` / `-1` are looked up once, then, so a record appended later is not skipped); before the
 * next fetch it takes effect for good — committed with `autoCommit`, as KafkaJS does, else the
 * next offset to resolve. While a seek is pending, what was fetched before it is stale.
 *
 * Concurrency: `seek` and `onAssigned` may be called at any time (also from a handler); `apply`
 * is called by the runner's loop only, between fetches. Position lookups in flight are tracked,
 * and `settle` waits for them.
 */

import type { Consumer as CoreConsumer, TopicPartition } from '../index.js';
import { tpKey } from '../types.js';
import { EARLIEST_OFFSET, LATEST_OFFSET } from './constants.js';
import { isCoreError, kafkaJSErrors } from './errors.js';
import type { OffsetTracker } from './offset-tracker.js';

interface Seek {
  topic: string;
  partition: number;
  /** KafkaJS' offset string; a `-2` / `-1` becomes the offset it was looked up as. */
  offset: string;
}

export interface SeeksHost {
  /** The group member, once the session has one. */
  core(): CoreConsumer | undefined;
  offsets: OffsetTracker;
  autoCommit: boolean;
  /** A failure nobody awaits (logged). */
  failed(error: unknown): void;
}

/** A running consumer's pending seeks; see the file comment (concurrency included). */
export class Seeks {
  #host: SeeksHost;
  #seeks = new Map<string, Seek>();
  #pending = new Set<Promise<void>>();

  constructor(host: SeeksHost) {
    this.#host = host;
  }

  /** Whether a seek on the partition is pending (what was fetched before it is stale). */
  has(topic: string, partition: number): boolean {
    return this.#seeks.has(tpKey(topic, partition));
  }

  /** Moves a partition's next fetch to `offset` (a string; `-2` earliest, `-1` latest). */
  seek(topic: string, partition: number, offset: string): void {
    const entry = { topic, partition, offset };
    this.#seeks.set(tpKey(topic, partition), entry);
    if (this.#isAssigned(topic, partition)) this.#move(entry);
  }

  /** Partitions were assigned: seeks waiting for them move the consumer now. */
  onAssigned(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const seek = this.#seeks.get(tpKey(tp.topic, tp.partition));
      if (seek !== undefined) this.#move(seek);
    }
  }

  /** Waits for position lookups in flight. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Before each fetch: seeks on assigned partitions take effect; with autoCommit the offset is committed, as KafkaJS does. */
  async apply(): Promise<void> {
    await this.settle();
    const core = this.#host.core();
    if (core === undefined) return;
    for (const [k, entry] of [...this.#seeks]) {
      const { topic, partition } = entry;
      if (!this.#isAssigned(topic, partition)) continue; // kept until the partition is assigned
      this.#seeks.delete(k);
      const n = Number(entry.offset);
      let offset = n;
      if (n === EARLIEST_OFFSET || n === LATEST_OFFSET) {
        await this.#seekTo(core, { topic, partition }, n === EARLIEST_OFFSET);
        const position = this.#position(topic, partition);
        if (position === undefined) continue; // revoked meanwhile
        offset = position;
      } else {
        core.seek({ topic, partition, offset: n });
      }
      if (this.#host.autoCommit) {
        await kafkaJSErrors(() => core.commit([{ topic, partition, offset }]));
        this.#host.offsets.seeked(topic, partition, offset);
      } else {
        this.#host.offsets.setNext(topic, partition, offset);
      }
    }
  }

  #move(entry: Seek): void {
    const core = this.#host.core();
    if (core === undefined) return;
    const { topic, partition } = entry;
    const n = Number(entry.offset);
    try {
      if (n === EARLIEST_OFFSET || n === LATEST_OFFSET) {
        // The log's start or end is looked up now, once: a record appended later is not skipped.
        this.#track(
          (async () => {
            await this.#seekTo(core, { topic, partition }, n === EARLIEST_OFFSET);
            const position = this.#position(topic, partition);
            if (this.#seeks.get(tpKey(topic, partition)) === entry && position !== undefined) entry.offset = String(position);
          })(),
        );
      } else {
        core.seek({ topic, partition, offset: n });
      }
    } catch (error) {
      this.#host.failed(error);
    }
  }

  /** Moves a partition to its log start or end; a partition revoked meanwhile, or a closed consumer, is let be. */
  async #seekTo(core: CoreConsumer, tp: TopicPartition, beginning: boolean): Promise<void> {
    try {
      await (beginning ? core.seekToBeginning([tp]) : core.seekToEnd([tp]));
    } catch (error) {
      if (!isCoreError(error, 'INVALID_ARGUMENT') && !isCoreError(error, 'CLOSED')) throw error;
    }
  }

  #track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.#host.failed(error));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #isAssigned(topic: string, partition: number): boolean {
    try {
      return (this.#host.core()?.assignment() ?? []).some((tp) => tp.topic === topic && tp.partition === partition);
    } catch {
      return false;
    }
  }

  #position(topic: string, partition: number): number | undefined {
    try {
      return this.#host.core()?.position({ topic, partition });
    } catch {
      return undefined;
    }
  }
}
