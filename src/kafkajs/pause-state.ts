/**
 * What a running consumer has paused, with KafkaJS' rules: pausing a topic without `partitions`
 * pauses all of its partitions, also those assigned later; resuming some partitions of a paused
 * topic resumes just those; pausing and resuming apply to partitions whether or not they are
 * assigned yet.
 */

interface TopicPauses {
  all: boolean;
  paused: Set<number>;
  resumed: Set<number>;
}

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
}
