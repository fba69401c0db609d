import { defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

/**
 * SaslHandshake: the client names its mechanism; the listener's (PLAIN, SCRAM-SHA-256 or
 * SCRAM-SHA-512) is the only one offered. v0 means the tokens that follow come as bare frames,
 * v1 that they come in SaslAuthenticate requests. On a listener without SASL every mechanism is
 * UNSUPPORTED_SASL_MECHANISM (with an empty list, so the client says none is enabled).
 */
export const saslHandshake = defineApi({
  apiKey: ApiKey.SaslHandshake,
  minVersion: 0,
  maxVersion: 1,
  handle(_ctx, request, version, session) {
    const auth = session.auth;
    if (auth === undefined) return { errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: [] };
    const result = auth.handshake(request.mechanism, version);
    const errorCode =
      result === 'ok' ? KafkaErrorCode.NONE : result === 'unsupported' ? KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM : KafkaErrorCode.ILLEGAL_SASL_STATE;
    return { errorCode, mechanisms: auth.mechanisms };
  },
});
