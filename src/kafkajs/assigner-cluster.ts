/**
 * The `cluster` a KafkaJS partition assigner is created with (`partitionAssigners: [({ cluster,
 * groupId, logger }) => assigner]`): KafkaJS hands assigners its internal `Cluster`, of which they
 * use the metadata — `findTopicPartitionMetadata(topic)` above all (KafkaJS' round robin, NestJS'
 * reply-partition assigner). This is that part of it, on the in-process cluster.
 *
 * A consumer creates its assigners when it is created, as KafkaJS does, before it knows its
 * cluster: the view answers from the cluster the consumer reached last (`attach`), and like
 * KafkaJS' before its first metadata request, knows no topics until then.
 *
 * Concurrency: every method reads the cluster's live state; `attach` may be called at any time.
 */

import type { Cluster } from './cluster.js';
import { EARLIEST_OFFSET, LATEST_OFFSET } from './constants.js';
import { isCoreError, kafkaJSErrors } from './errors.js';
import type { AssignerCluster as AssignerClusterType, PartitionMetadata } from './types.js';

interface TopicOffsetsQuery {
  topic: string;
  partitions: { partition: number }[];
  fromBeginning?: boolean;
  fromTimestamp?: number;
}

/** The `cluster` given to KafkaJS assigners; see the file comment (concurrency included). */
export class AssignerCluster implements AssignerClusterType {
  #cluster: Cluster | undefined;

  /** The consumer reached `cluster` (connect, or a run starting): answer from it from now on. */
  attach(cluster: Cluster): void {
    this.#cluster = cluster;
  }

  isConnected(): boolean {
    return this.#cluster?.isOpen() ?? false;
  }

  async connect(): Promise<void> {}

  async disconnect(): Promise<void> {}

  /** In-process metadata is always current: nothing to refresh. */
  async refreshMetadata(): Promise<void> {}

  async refreshMetadataIfNecessary(): Promise<void> {}

  /** Every topic is known in-process: nothing to add. */
  async addTargetTopic(_topic: string): Promise<void> {}

  async addMultipleTargetTopics(_topics: string[]): Promise<void> {}

  getNodeIds(): number[] {
    return this.#cluster?.nodes().map((n) => n.nodeId) ?? [];
  }

  /** The partitions of `topic` as KafkaJS' metadata has them; `[]` for a topic it does not know (as KafkaJS). */
  findTopicPartitionMetadata(topic: string): PartitionMetadata[] {
    if (this.#cluster === undefined) return [];
    try {
      return this.#cluster.partitionMetadata(topic);
    } catch (error) {
      if (isCoreError(error)) return [];
      throw error;
    }
  }

  /** Partitions by the node leading them: node 0 leads every partition in-process. */
  findLeaderForPartitions(topic: string, partitions: number[]): { [leader: string]: number[] } {
    const known = new Set(this.findTopicPartitionMetadata(topic).map((p) => p.partitionId));
    const led = partitions.filter((p) => known.has(p));
    return led.length === 0 ? {} : { [String(this.getNodeIds()[0] ?? 0)]: led };
  }

  async metadata(): Promise<{ brokers: { nodeId: number; host: string; port: number }[]; topicMetadata: { topicErrorCode: number; topic: string; partitionMetadata: PartitionMetadata[] }[] }> {
    const cluster = this.#cluster;
    if (cluster === undefined) return { brokers: [], topicMetadata: [] };
    return {
      brokers: cluster.nodes(),
      topicMetadata: cluster.broker.listTopics().map((topic) => ({ topicErrorCode: 0, topic, partitionMetadata: cluster.partitionMetadata(topic) })),
    };
  }

  /** KafkaJS' sentinel for where a partition without a committed offset starts. */
  defaultOffset({ fromBeginning }: { fromBeginning: boolean }): number {
    return fromBeginning ? EARLIEST_OFFSET : LATEST_OFFSET;
  }

  /** Per partition, the log start (`fromBeginning`), the first offset at or after `fromTimestamp`, or the log end. */
  async fetchTopicsOffset(topics: TopicOffsetsQuery[]): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]> {
    const cluster = this.#cluster;
    if (cluster === undefined) return [];
    return kafkaJSErrors(() =>
      Promise.all(
        topics.map(async ({ topic, partitions, fromBeginning, fromTimestamp }) => ({
          topic,
          partitions: await Promise.all(
            partitions.map(async ({ partition }) => {
              const p = cluster.broker.topic(topic).partition(partition);
              const offset =
                fromTimestamp != null ? ((await p.offsetForTimestamp(fromTimestamp)) ?? p.logEndOffset) : fromBeginning ? p.logStartOffset : p.logEndOffset;
              return { partition, offset: String(offset) };
            }),
          ),
        })),
      ),
    );
  }
}
