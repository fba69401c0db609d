import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey, type FindCoordinatorResponseCoordinator } from '../protocol/index.js';
import { NODE_ID, type WireContext } from '../wire-context.js';

const GROUP = 0;
const TRANSACTION = 1;

/**
 * FindCoordinator: this broker coordinates every group (key type 0) and every transactional id
 * (key type 1); another key type is INVALID_REQUEST. v4+ looks up a batch of keys.
 */
export const findCoordinator = defineApi({
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request, version) {
    if (version >= 4) return { throttleTimeMs: 0, coordinators: request.coordinatorKeys.map((key) => coordinator(ctx, key, request.keyType)) };
    const c = coordinator(ctx, request.key, request.keyType);
    return { throttleTimeMs: 0, errorCode: c.errorCode, errorMessage: c.errorMessage, nodeId: c.nodeId, host: c.host, port: c.port };
  },
});

function coordinator(ctx: WireContext, key: string, keyType: number): FindCoordinatorResponseCoordinator {
  if (keyType === GROUP || keyType === TRANSACTION) return { key, nodeId: NODE_ID, host: ctx.listen.advertisedHost, port: ctx.port, errorCode: KafkaErrorCode.NONE, errorMessage: null };
  return { key, nodeId: -1, host: '', port: -1, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `unknown coordinator key type ${keyType}` };
}
