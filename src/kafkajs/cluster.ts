/**
 * One in-process "Kafka cluster": a kafkalite Broker standing in for the brokers of a KafkaJS
 * `brokers` list, plus what KafkaJS clients ask of a cluster that kafkalite's public API does not
 * answer directly (broker addresses, partition metadata, which groups exist).
 */

import { randomUUID } from 'node:crypto';
import { Broker } from '../index.js';
import { NODE_ID } from './constants.js';
import type { PartitionMetadata } from './types.js';

/** What the adapter knows of a consumer it put in a group (kafkalite only knows its client id). */
export interface AdapterMember {
  /** The KafkaJS `clientId` (kafkalite's member carries a unique one). */
  clientId: string;
  topics: string[];
  protocol: string;
}

const OFFSETS_TOPIC = '__consumer_offsets';
const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class Cluster {
  readonly key: string;
  readonly brokers: readonly string[];
  readonly broker: Broker;
  readonly clusterId: string;
  /** The registry opened the broker, so it may create topics as Kafka's auto-creation would. */
  readonly ownsBroker: boolean;
  /** Consumers the adapter put in groups, by the unique client id they carry in kafkalite. */
  readonly members = new Map<string, AdapterMember>();
  /** Groups that consumers of this adapter joined. */
  readonly joinedGroups = new Set<string>();
  /** Incremental scan of `__consumer_offsets`: committed partitions per group. */
  #scan = { next: 0, offsets: new Map<string, Set<string>>() };

  constructor(key: string, brokers: readonly string[], broker: Broker, ownsBroker: boolean) {
    this.key = key;
    this.brokers = [...brokers];
    this.broker = broker;
    this.ownsBroker = ownsBroker;
    this.clusterId = `kafkalite-${randomUUID()}`;
  }

  /** False once the broker is closed (by a reset, or by its owner). */
  isOpen(): boolean {
    try {
      this.broker.listTopics();
      return true;
    } catch {
      return false;
    }
  }

  /** The brokers of the `brokers` list, as KafkaJS' metadata shows them; node 0 leads every partition. */
  nodes(): { nodeId: number; host: string; port: number }[] {
    return this.brokers.map((address, i) => {
      const cut = address.lastIndexOf(':');
      const port = cut < 0 ? NaN : Number(address.slice(cut + 1));
      return { nodeId: NODE_ID + i, host: cut < 0 ? address : address.slice(0, cut), port: Number.isInteger(port) ? port : 9092 };
    });
  }

  /** KafkaJS' partition metadata of a topic; throws kafkalite's `UNKNOWN_TOPIC`. */
  partitionMetadata(topic: string): PartitionMetadata[] {
    return this.broker.topic(topic).partitions.map((p) => ({
      partitionErrorCode: 0,
      partitionId: p.id,
      leader: NODE_ID,
      replicas: [NODE_ID],
      isr: [NODE_ID],
      offlineReplicas: [],
    }));
  }

  /**
   * Groups with committed offsets. kafkalite has no public list of groups, so this reads the
   * records of `__consumer_offsets` (Kafka's OffsetCommitKey layout, which kafkalite documents)
   * from where the last call stopped.
   */
  async groupsWithOffsets(): Promise<string[]> {
    let partition;
    try {
      partition = this.broker.topic(OFFSETS_TOPIC).partition(0);
    } catch {
      return [];
    }
    const scan = this.#scan;
    scan.next = Math.max(scan.next, partition.logStartOffset);
    for (;;) {
      const records = await partition.read(scan.next, { maxRecords: 5000 });
      if (records.length === 0) break;
      for (const r of records) {
        const key = decodeOffsetKey(r.key);
        if (key === undefined) continue;
        let committed = scan.offsets.get(key.group);
        if (r.value === null) {
          committed?.delete(tpKey(key.topic, key.partition));
          if (committed?.size === 0) scan.offsets.delete(key.group);
        } else {
          if (committed === undefined) scan.offsets.set(key.group, (committed = new Set()));
          committed.add(tpKey(key.topic, key.partition));
        }
      }
      scan.next = records[records.length - 1]!.offset + 1;
    }
    return [...scan.offsets.keys()];
  }

  /** Whether the group has any committed offset. */
  async hasOffsets(groupId: string): Promise<boolean> {
    return (await this.broker.group(groupId).lag()).some((l) => l.committed !== undefined);
  }

  async close(): Promise<void> {
    if (this.ownsBroker) await this.broker.close();
  }
}

/** OffsetCommitKey v0/v1: int16 version, string group, string topic, int32 partition. */
function decodeOffsetKey(key: Buffer | null): { group: string; topic: string; partition: number } | undefined {
  if (key === null || key.length < 10) return undefined;
  const version = key.readInt16BE(0);
  if (version !== 0 && version !== 1) return undefined;
  let p = 2;
  const groupLength = key.readInt16BE(p);
  const group = key.toString('utf8', p + 2, p + 2 + groupLength);
  p += 2 + groupLength;
  const topicLength = key.readInt16BE(p);
  const topic = key.toString('utf8', p + 2, p + 2 + topicLength);
  p += 2 + topicLength;
  if (p + 4 > key.length) return undefined;
  return { group, topic, partition: key.readInt32BE(p) };
}
