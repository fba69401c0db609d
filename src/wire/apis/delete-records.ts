import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey, type DeleteRecordsResponsePartitionResult } from '../protocol/index.js';

/** DeleteRecords' "up to the high watermark". */
const HIGH_WATERMARK = -1;

/**
 * DeleteRecords: `partition.deleteRecordsBefore(offset)` per partition (-1: the high watermark),
 * answering the new low watermark (log start offset). An offset past the log end (or below -1)
 * is OFFSET_OUT_OF_RANGE.
 */
export const deleteRecords = defineApi({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const waits: Promise<void>[] = [];
    const topics = request.topics.map((t) => {
      const topic = ctx.topics.get(t.name);
      const partitions = t.partitions.map((p) => {
        const out: DeleteRecordsResponsePartitionResult = { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: KafkaErrorCode.NONE };
        const partition = topic?.partitions[p.partitionIndex];
        if (partition === undefined) {
          out.errorCode = KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (p.offset < HIGH_WATERMARK) {
          out.errorCode = KafkaErrorCode.OFFSET_OUT_OF_RANGE;
        } else {
          const offset = p.offset === HIGH_WATERMARK ? partition.logEndOffset : p.offset;
          waits.push(
            partition.deleteRecordsBefore(offset).then(
              () => void (out.lowWatermark = partition.logStartOffset),
              (error: unknown) => void (out.errorCode = kafkaErrorOf(error).code),
            ),
          );
        }
        return out;
      });
      return { name: t.name, partitions };
    });
    await Promise.all(waits);
    return { throttleTimeMs: 0, topics };
  },
});
