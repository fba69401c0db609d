import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf, txnErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * InitProducerId through the seam. Idempotent producers (Java's default since 3.0) get a producer
 * id and epoch from the broker's producer ids (never handed out twice, across restarts); one
 * re-initialising with its id and epoch (v3+) gets the next epoch. A `transactionalId` goes to
 * the transaction coordinator: its producer id with the next epoch, which fences the previous
 * holder (a transaction it left open is aborted first). Before v4 a fenced producer hears
 * INVALID_PRODUCER_EPOCH, as from Kafka.
 */
export const initProducerId = defineApi({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request, version) {
    try {
      const { error, producerId, producerEpoch } = await ctx.api.initProducerId({
        transactionalId: request.transactionalId,
        transactionTimeoutMs: request.transactionTimeoutMs,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
      });
      if (error !== undefined) return { throttleTimeMs: 0, errorCode: txnErrorCode(error, version < 4), producerId: -1, producerEpoch: -1 };
      return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId, producerEpoch };
    } catch (error) {
      return { throttleTimeMs: 0, errorCode: kafkaErrorOf(error).code, producerId: -1, producerEpoch: -1 };
    }
  },
});
