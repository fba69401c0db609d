import { Farewell, defineApi } from '../api-handler.js';
import { KafkaErrorCode } from '../kafka-errors.js';
import { ApiKey } from '../protocol/index.js';

const NONE = new Uint8Array(0);

/**
 * SaslAuthenticate: one token of the exchange the handshake chose. A failure is answered with
 * SASL_AUTHENTICATION_FAILED and its reason, then the connection is closed (as Kafka does); a
 * request out of turn is ILLEGAL_SASL_STATE, likewise followed by a close.
 */
export const saslAuthenticate = defineApi({
  apiKey: ApiKey.SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle(_ctx, request, _version, session) {
    const auth = session.auth;
    if (auth === undefined || !auth.expectsAuthenticate) {
      return new Farewell({ errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'no SASL handshake (v1) preceded this request', authBytes: NONE });
    }
    const step = auth.step(request.authBytes);
    if (!step.ok) return new Farewell({ errorCode: KafkaErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: step.message, authBytes: NONE });
    return { errorCode: KafkaErrorCode.NONE, errorMessage: null, authBytes: step.reply, sessionLifetimeMs: 0 };
  },
});
