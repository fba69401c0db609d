/**
 * One in-process "Kafka cluster": a kafkalite Broker standing in for the brokers of a KafkaJS
 * `brokers` list, plus what KafkaJS clients ask of a cluster that kafkalite's public API does not
 * answer directly (broker addresses, partition metadata, which groups exist).
 */

import { randomUUID } from 'node:crypto';
import { Broker } from '../index.js';
import { NODE_ID } from './constants.js';
import type { PartitionMetadata } from './types.js';

/** What the adapter knows of a KafkaJS consumer in a group, beyond kafkalite's group view. */
export interface AdapterMember {
  clientId: string;
  topics: string[];
  /** The protocol (assigner name) the group chose in the member's last join. */
  protocol: string;
  /** What the member's assigner put in its subscription for that protocol (KafkaJS' `memberMetadata`). */
  metadata: Buffer | undefined;
}

export class Cluster {
  readonly key: string;
  readonly brokers: readonly string[];
  readonly broker: Broker;
  readonly clusterId: string;
  /** The registry opened the broker, so it may create topics as Kafka's auto-creation would. */
  readonly ownsBroker: boolean;
  /** KafkaJS consumers in groups, by member id. */
  readonly members = new Map<string, AdapterMember>();
  /** The assignment bytes a KafkaJS leader's assigner gave each member (DescribeGroups returns them as sent), by member id. */
  readonly assignmentBytes = new Map<string, Buffer>();

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

  /** Whether the group has any committed offset. */
  async hasOffsets(groupId: string): Promise<boolean> {
    return (await this.broker.group(groupId).lag()).some((l) => l.committed !== undefined);
  }

  async close(): Promise<void> {
    if (this.ownsBroker) await this.broker.close();
  }
}

