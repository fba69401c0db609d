import type { TopicPartitionOffset } from '../../types.js';
import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey, type OffsetCommitResponsePartition, type OffsetCommitResponseTopic } from '../protocol/index.js';

/** Kafka's `offset.metadata.max.bytes`. */
const MAX_METADATA = 4096;

/**
 * OffsetCommit through the group coordinator. A commit from outside the group — generation -1
 * and no member id, what kcat, KafkaJS' admin and manual-assignment consumers send — is taken
 * while the group has no members (Kafka's rule; UNKNOWN_MEMBER_ID otherwise) and is not fenced.
 * A commit naming a member of a classic group is fenced by member and generation
 * (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS as Kafka answers); one naming a
 * member of a consumer-protocol group by what that member holds (UNKNOWN_MEMBER_ID otherwise).
 * Offsets are kept as Kafka keeps them (`__consumer_offsets`); the commit metadata string is not
 * kept (OffsetFetch reads it back empty). Unknown topics or partitions fail on their own.
 */
export const offsetCommit = defineApi({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request, version) {
    const { groupId } = request;
    const memberId = version >= 1 ? request.memberId : '';
    const generation = version >= 1 ? request.generationIdOrMemberEpoch : -1;
    const group = groupId === '' ? undefined : ctx.groups.group(groupId);
    const outsider = memberId === '' && generation < 0;
    const classicError = group === undefined || outsider ? undefined : ctx.groups.classicCommitError(groupId, memberId, generation);
    const groupError =
      group === undefined
        ? KafkaErrorCode.INVALID_GROUP_ID
        : outsider
          ? group.state === 'Empty' || group.state === 'Dead'
            ? KafkaErrorCode.NONE
            : KafkaErrorCode.UNKNOWN_MEMBER_ID
          : classicError !== undefined
            ? KafkaErrorCode[classicError]
            : KafkaErrorCode.NONE; // a consumer-protocol group: the coordinator fences by what the member holds
    const topics: OffsetCommitResponseTopic[] = [];
    const offsets: TopicPartitionOffset[] = [];
    const slots: OffsetCommitResponsePartition[] = [];
    for (const t of request.topics) {
      const topic = ctx.topics.get(t.name);
      const partitions: OffsetCommitResponsePartition[] = [];
      for (const p of t.partitions) {
        const out: OffsetCommitResponsePartition = { partitionIndex: p.partitionIndex, errorCode: groupError };
        partitions.push(out);
        if (groupError !== KafkaErrorCode.NONE) continue;
        const tp = { topic: t.name, partition: p.partitionIndex, offset: p.committedOffset };
        if (topic?.partitions[p.partitionIndex] === undefined) out.errorCode = KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if ((p.committedMetadata?.length ?? 0) > MAX_METADATA) out.errorCode = KafkaErrorCode.OFFSET_METADATA_TOO_LARGE;
        else if (!Number.isSafeInteger(p.committedOffset) || p.committedOffset < 0) out.errorCode = KafkaErrorCode.INVALID_REQUEST;
        else {
          offsets.push(tp);
          slots.push(out);
        }
      }
      topics.push({ name: t.name, partitions });
    }
    if (offsets.length > 0) {
      try {
        await ctx.api.offsetCommit({ groupId, offsets, ...(outsider ? {} : { memberId, generationId: generation }) });
      } catch (error) {
        const code = kafkaErrorOf(error).code;
        for (const slot of slots) slot.errorCode = code;
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});
