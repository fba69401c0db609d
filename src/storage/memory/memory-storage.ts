import { invalidArgument, storageLocked } from '../../errors.js';
import type { PartitionLog, Storage, StoredTopic } from '../storage.js';
import { MemoryLog } from './memory-log.js';

/**
 * The default storage: everything in memory, gone with the process. One broker may hold it at a
 * time; after that broker closes, another `Broker.open` on the same instance finds its topics
 * and records again (handy for testing restarts).
 *
 * Concurrency: single-threaded; every log operation completes synchronously.
 */
export class MemoryStorage implements Storage {
  #topics = new Map<string, StoredTopic>();
  #logs = new Map<string, MemoryLog[]>();
  #open = false;

  open(): Promise<StoredTopic[]> {
    if (this.#open) return Promise.reject(storageLocked('(memory)'));
    this.#open = true;
    return Promise.resolve([...this.#topics.values()].map(copyTopic));
  }

  saveTopic(topic: StoredTopic): Promise<void> {
    this.#topics.set(topic.name, copyTopic(topic));
    const logs = this.#logs.get(topic.name) ?? [];
    const name = topic.name;
    while (logs.length < topic.partitions) logs.push(new MemoryLog(() => this.#topics.get(name)?.config.segmentBytes ?? Infinity, { topic: name, partition: logs.length }));
    this.#logs.set(topic.name, logs);
    return Promise.resolve();
  }

  deleteTopic(name: string): Promise<void> {
    this.#topics.delete(name);
    this.#logs.delete(name);
    return Promise.resolve();
  }

  log(topic: string, partition: number): PartitionLog {
    const log = this.#logs.get(topic)?.[partition];
    if (log === undefined) throw invalidArgument(`no log for ${topic}-${partition}: save the topic first`);
    return log;
  }

  close(): Promise<void> {
    this.#open = false;
    return Promise.resolve();
  }
}

function copyTopic(t: StoredTopic): StoredTopic {
  return t.id === undefined ? { name: t.name, partitions: t.partitions, config: { ...t.config } } : { name: t.name, id: t.id, partitions: t.partitions, config: { ...t.config } };
}
