import { authenticationFailed, unsupported } from '../errors.js';
import { KafkaErrorCode } from '../wire/kafka-errors.js';
import { ApiKey, type ApiMessageTypes, type EncodeInput } from '../wire/protocol/index.js';
import type { ApiVersionTable } from './api-version-table.js';
import type { SaslOptions } from './remote-options.js';
import { ScramClient } from './scram-client.js';

/** Sends one request on the connection being set up and resolves with its response. */
export type SetupSend = <K extends ApiKey>(apiKey: K, request: EncodeInput<ApiMessageTypes[K]['request']>, version: number) => Promise<ApiMessageTypes[K]['response']>;

/** Kafka's names of the mechanisms, as SaslHandshake carries them. */
const KAFKA_NAMES: Record<SaslOptions['mechanism'], string> = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' };

/**
 * Logs in on a fresh connection as Kafka's clients do since KIP-152: SaslHandshake v1 naming the
 * mechanism, then the mechanism's tokens in SaslAuthenticate requests (PLAIN: one token, RFC 4616;
 * SCRAM: two round trips, and the server's signature checked). A broker that speaks only
 * SaslHandshake v0 (raw tokens, Kafka before 1.0) is `UNSUPPORTED`; a mechanism the broker does not
 * offer is `UNSUPPORTED` naming the ones it does; refused credentials are `AUTHENTICATION_FAILED`
 * with the broker's message.
 */
export async function saslLogin(send: SetupSend, versions: ApiVersionTable, sasl: SaslOptions, address: string): Promise<void> {
  const mechanism = KAFKA_NAMES[sasl.mechanism];
  const handshakeVersion = versions.version(ApiKey.SaslHandshake);
  if (handshakeVersion < 1) throw unsupported(`SASL with the broker at ${address}`, 'it speaks only SaslHandshake v0 (raw tokens, Kafka before 1.0)');
  const authenticateVersion = versions.version(ApiKey.SaslAuthenticate);
  const handshake = await send(ApiKey.SaslHandshake, { mechanism }, handshakeVersion);
  if (handshake.errorCode === KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    const offered = handshake.mechanisms.length === 0 ? 'none' : handshake.mechanisms.join(', ');
    throw unsupported(`SASL mechanism ${mechanism} at ${address}`, `the broker offers ${offered}`);
  }
  if (handshake.errorCode !== KafkaErrorCode.NONE) throw authenticationFailed(address, mechanism, `SaslHandshake answered error code ${handshake.errorCode}`);

  const exchange = async (token: Uint8Array): Promise<Uint8Array> => {
    const r = await send(ApiKey.SaslAuthenticate, { authBytes: token }, authenticateVersion);
    if (r.errorCode !== KafkaErrorCode.NONE) throw authenticationFailed(address, mechanism, r.errorMessage ?? `error code ${r.errorCode}`);
    return r.authBytes;
  };

  if (sasl.mechanism === 'plain') {
    // authzid (empty: act as the user) NUL authcid NUL password.
    await exchange(Buffer.from(`\0${sasl.username}\0${sasl.password}`, 'utf8'));
    return;
  }
  const scram = new ScramClient(sasl.mechanism === 'scram-sha-512' ? 'sha512' : 'sha256', sasl.username, sasl.password);
  const serverFirst = await exchange(Buffer.from(scram.first(), 'utf8'));
  const final = await scram.final(Buffer.from(serverFirst).toString('utf8'));
  if (!final.ok) throw authenticationFailed(address, mechanism, final.why);
  const serverFinal = await exchange(Buffer.from(final.message, 'utf8'));
  const verified = scram.verify(Buffer.from(serverFinal).toString('utf8'));
  if (!verified.ok) throw authenticationFailed(address, mechanism, verified.why);
}
