import { defineApi } from '../api-handler.js';
import { KafkaErrorCode, kafkaErrorOf, txnErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/** Kafka's default `transaction.max.timeout.ms`: a longer transaction timeout is refused. */
const MAX_TRANSACTION_TIMEOUT_MS = 900_000;

/**
 * InitProducerId through the seam. Idempotent producers (Java's default since 3.0) get a producer
 * id and epoch from the broker's producer ids (never handed out twice, across restarts); one
 * re-initialising with its id and epoch (v3+) gets the next epoch. A `transactionalId` goes to
 * the transaction coordinator: its producer id with the next epoch, which fences the previous
 * holder (a transaction it left open is aborted first). Before v4 a fenced producer hears
 * INVALID_PRODUCER_EPOCH, as from Kafka. As on Kafka, an empty transactional id is
 * INVALID_REQUEST, and a transaction timeout not in 1 ms – 15 min INVALID_TRANSACTION_TIMEOUT.
 */
export const initProducerId = defineApi({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request, version) {
    const { transactionalId, transactionTimeoutMs } = request;
    const refused =
      transactionalId === ''
        ? KafkaErrorCode.INVALID_REQUEST
        : transactionalId !== null && !(transactionTimeoutMs > 0 && transactionTimeoutMs <= MAX_TRANSACTION_TIMEOUT_MS)
          ? KafkaErrorCode.INVALID_TRANSACTION_TIMEOUT
          : undefined;
    if (refused !== undefined) return { throttleTimeMs: 0, errorCode: refused, producerId: -1, producerEpoch: -1 };
    try {
      const { error, producerId, producerEpoch } = await ctx.api.initProducerId({
        transactionalId,
        transactionTimeoutMs,
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
