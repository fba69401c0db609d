import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/** Kafka's largest producer epoch: past it, a producer gets a new id. */
const MAX_EPOCH = 32767;

/**
 * InitProducerId: hands idempotent producers (Java's default since 3.0) a producer id and epoch
 * 0, from a counter shared by the broker's listeners; a producer re-initialising with its id and
 * epoch (v3+) gets the next epoch. Sequence numbers are not checked yet: batches are stored as
 * they come. A `transactionalId` is refused with INVALID_REQUEST until transactions come.
 */
export const initProducerId = defineApi({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    if (request.transactionalId !== null) {
      return { throttleTimeMs: 0, errorCode: KafkaErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
    }
    const { producerId, producerEpoch } = request;
    if (producerId >= 0 && producerId < ctx.producerIds.next && producerEpoch >= 0 && producerEpoch < MAX_EPOCH) {
      return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId, producerEpoch: producerEpoch + 1 };
    }
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId: ctx.producerIds.next++, producerEpoch: 0 };
  },
});
