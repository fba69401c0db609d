import { defineApi } from '../api-handler.js';
import { txnCallCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * EndTxn: commits or aborts through the seam's transaction coordinator, answered once the
 * decision is in `__transaction_state` and every partition of the transaction has its control
 * batch (so a read_committed fetch sent after the answer sees the outcome). Ending a transaction
 * that sent nothing, or ending one twice, is answered NONE, as Kafka answers a retry.
 */
export const endTxn = defineApi({
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, request, version) {
    const { transactionalId, producerId, producerEpoch, committed } = request;
    return { throttleTimeMs: 0, errorCode: await txnCallCode(() => ctx.api.endTxn({ transactionalId, producerId, producerEpoch, commit: committed }), version < 2) };
  },
});
