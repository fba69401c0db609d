/**
 * What a running consumer has paused, with KafkaJS' rules: pausing a topic without `partitions`
 * pauses all of its partitions, also those assigned later; resuming some partitions of a paused
 * topic resumes just those; pausing and resuming apply to partitions whether or not they are
 * assigned yet. `applyTo` makes a kafkalite consumer's pauses match, on what it holds.
 *
 * Concurrency: single-threaded state; call `applyTo` after every change and every assignment.
 */

import type { Consumer as CoreConsumer, TopicPartition } from '../index.js';
import { tpKey } from '../types.js';

interface TopicPauses {
  all: boolean;
  paused: Set<number>;
  resumed: Set<number>;
}

/** See the file comment (concurrency included). */
export class PauseState {
  #topics = new Map<string, TopicPauses>();

  #state(topic: string): TopicPauses {
    let s = this.#topics.get(topic);
    if (s === undefined) this.#topics.set(topic, (s = { all: false, paused: new Set(), resumed: new Set() }));
    return s;
  }

  pause(topicPartitions: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topicPartitions) {
      const s = this.#state(topic);
      if (partitions === undefined) {
        s.paused.clear();
        s.resumed.clear();
        s.all = true;
      } else {
        for (const p of partitions) {
          s.paused.add(p);
          s.resumed.delete(p);
        }
        s.all = false;
      }
    }
  }

  resume(topicPartitions: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of topicPartitions) {
      const s = this.#state(topic);
      if (partitions === undefined) {
        s.paused.clear();
        s.resumed.clear();
        s.all = false;
      } else {
        for (const p of partitions) {
          s.paused.delete(p);
          if (s.all) s.resumed.add(p);
        }
      }
    }
  }

  isPaused(topic: string, partition: number): boolean {
    const s = this.#topics.get(topic);
    if (s === undefined) return false;
    return (s.all && !s.resumed.has(partition)) || s.paused.has(partition);
  }

  /** The assigned partitions that are paused, per topic, partitions ascending. */
  pausedOf(assignment: TopicPartition[]): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of assignment) {
      if (this.isPaused(topic, partition)) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
  }

  /** Pauses and resumes `core`'s assigned partitions so that they match this state. */
  applyTo(core: CoreConsumer): void {
    const paused = new Set(core.paused().map((tp) => tpKey(tp.topic, tp.partition)));
    const pause: TopicPartition[] = [];
    const resume: TopicPartition[] = [];
    for (const tp of core.assignment()) {
      const want = this.isPaused(tp.topic, tp.partition);
      const has = paused.has(tpKey(tp.topic, tp.partition));
      if (want && !has) pause.push(tp);
      if (!want && has) resume.push(tp);
    }
    if (pause.length > 0) core.pause(pause);
    if (resume.length > 0) core.resume(resume);
  }
}
