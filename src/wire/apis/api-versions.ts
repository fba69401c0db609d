import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/** Kafka's rule for ApiVersions v3's client software name and version (KIP-511). */
const SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

/**
 * ApiVersions: the APIs and version ranges this listener serves. A version it does not know is
 * answered by the dispatcher, in v0's layout with UNSUPPORTED_VERSION and the same list, so the
 * client can retry with one it has.
 */
export const apiVersions = defineApi({
  apiKey: ApiKey.ApiVersions,
  minVersion: 0,
  maxVersion: 3,
  handle(ctx, request, version) {
    if (version >= 3 && !(SOFTWARE.test(request.clientSoftwareName) && SOFTWARE.test(request.clientSoftwareVersion))) {
      return { errorCode: KafkaErrorCode.INVALID_REQUEST, apiKeys: ctx.advertised };
    }
    return { errorCode: KafkaErrorCode.NONE, apiKeys: ctx.advertised, throttleTimeMs: 0 };
  },
});
