import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';
import type { WireContext } from '../wire-context.js';

interface PartitionOffset {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}
interface TopicOffsets {
  name: string;
  partitions: PartitionOffset[];
}

/**
 * OffsetFetch: a group's committed offsets, -1 where there is none; a null topic list asks for
 * every offset the group has. v8+ asks for several groups at once. No member checks: anyone may
 * read a group's offsets, as on Kafka without ACLs. `requireStable` is moot without transactions.
 */
export const offsetFetch = defineApi({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request, version) {
    if (version >= 8) {
      const groups = [];
      for (const g of request.groups) {
        const { topics, errorCode } = await fetchGroup(ctx, g.groupId, g.topics);
        groups.push({ groupId: g.groupId, topics, errorCode });
      }
      return { throttleTimeMs: 0, groups };
    }
    // A null topic list (v2+) asks for everything; before v2 the list is never null.
    const { topics, errorCode } = await fetchGroup(ctx, request.groupId, request.topics);
    if (version < 2 && errorCode !== KafkaErrorCode.NONE) {
      for (const t of topics) for (const p of t.partitions) p.errorCode = errorCode;
    }
    return { throttleTimeMs: 0, topics, errorCode };
  },
});

async function fetchGroup(ctx: WireContext, groupId: string, wanted: { name: string; partitionIndexes: number[] }[] | null): Promise<{ topics: TopicOffsets[]; errorCode: number }> {
  const entry = (partitionIndex: number, offset: number | undefined): PartitionOffset => ({
    partitionIndex,
    committedOffset: offset ?? -1,
    committedLeaderEpoch: -1,
    metadata: '',
    errorCode: KafkaErrorCode.NONE,
  });
  if (groupId === '') {
    const topics = (wanted ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => entry(p, undefined)) }));
    return { topics, errorCode: KafkaErrorCode.INVALID_GROUP_ID };
  }
  if (wanted === null) {
    const byTopic = new Map<string, PartitionOffset[]>();
    for (const o of ctx.groups.offsets.groupOffsets(groupId).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))) {
      const list = byTopic.get(o.topic) ?? [];
      list.push(entry(o.partition, o.offset));
      byTopic.set(o.topic, list);
    }
    return { topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })), errorCode: KafkaErrorCode.NONE };
  }
  const partitions = wanted.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
  try {
    const offsets = await ctx.api.offsetFetch({ groupId, partitions });
    let i = 0;
    const topics = wanted.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => entry(p, offsets[i++])) }));
    return { topics, errorCode: KafkaErrorCode.NONE };
  } catch (error) {
    const topics = wanted.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => entry(p, undefined)) }));
    return { topics, errorCode: kafkaErrorOf(error).code };
  }
}
