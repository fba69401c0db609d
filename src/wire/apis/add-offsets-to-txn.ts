import { defineApi } from '../api-handler.js';
import { txnCallCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * AddOffsetsToTxn: the transaction will commit offsets of this group (TxnOffsetCommit follows);
 * through the seam's transaction coordinator, which opens the transaction if it is not open.
 */
export const addOffsetsToTxn = defineApi({
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request, version) {
    const { transactionalId, producerId, producerEpoch, groupId } = request;
    return { throttleTimeMs: 0, errorCode: await txnCallCode(() => ctx.api.addOffsetsToTxn({ transactionalId, producerId, producerEpoch, groupId }), version < 2) };
  },
});
