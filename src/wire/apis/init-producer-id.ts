import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * InitProducerId: hands idempotent producers (Java's default since 3.0) a producer id and epoch
 * through the seam, from the broker's producer ids (never handed out twice, across restarts); a
 * producer re-initialising with its id and epoch (v3+) gets the next epoch. The partitions check
 * the sequences of what such a producer sends. A `transactionalId` is refused with
 * INVALID_REQUEST until transactions come.
 */
export const initProducerId = defineApi({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    if (request.transactionalId !== null) {
      return { throttleTimeMs: 0, errorCode: KafkaErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
    }
    try {
      const { producerId, producerEpoch } = await ctx.api.initProducerId({
        transactionalId: null,
        transactionTimeoutMs: request.transactionTimeoutMs,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
      });
      return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId, producerEpoch };
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: kafkaErrorOf(error).code, producerId: -1, producerEpoch: -1 };
    }
  },
});
