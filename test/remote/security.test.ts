/** BrokerConnection over TLS and with SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, against kafkalite listeners set up as test/wire/security.test.ts does. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BrokerConnection } from '../../src/remote/broker-connection.js';
import type { SaslOptions } from '../../src/remote/remote-options.js';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { expectError } from '../helpers.js';
import { serve } from '../wire/listener-helpers.js';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('cert.pem', TLS_DIR));
const key = readFileSync(new URL('key.pem', TLS_DIR));
const users = { alice: 'wonderland', 'b,o=b': 'pässword' };

function open(address: string, extra: { sasl?: SaslOptions; ssl?: boolean | { ca: Buffer[] } } = {}): Promise<BrokerConnection> {
  const at = address.lastIndexOf(':');
  return BrokerConnection.open({ host: address.slice(0, at), port: Number(address.slice(at + 1)), ...extra });
}

async function metadataWorks(c: BrokerConnection): Promise<void> {
  expect((await c.send(ApiKey.Metadata, { topics: [{ name: 't' }], allowAutoTopicCreation: false })).topics[0]).toMatchObject({ name: 't', errorCode: 0 });
  await c.close();
}

describe('SASL', () => {
  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('%s: logs in (user names with , and =, non-ASCII passwords); a wrong password or unknown user is AUTHENTICATION_FAILED', async (mechanism) => {
    const { broker, listener } = await serve({}, { sasl: { mechanism, users } });
    await broker.createTopic('t');
    for (const [username, password] of Object.entries(users)) await metadataWorks(await open(listener.address, { sasl: { mechanism, username, password } }));
    const wrong = await expectError(() => open(listener.address, { sasl: { mechanism, username: 'alice', password: 'nope' } }), 'AUTHENTICATION_FAILED', new RegExp(`SASL ${mechanism.toUpperCase()} authentication to 127\\.0\\.0\\.1:\\d+ failed: Authentication failed`));
    expect(wrong.retriable).toBe(false);
    await expectError(() => open(listener.address, { sasl: { mechanism, username: 'mallory', password: 'x' } }), 'AUTHENTICATION_FAILED');
  });

  it('a mechanism the broker does not offer is UNSUPPORTED naming the ones it does', async () => {
    const { listener } = await serve({}, { sasl: { mechanism: 'scram-sha-512', users } });
    await expectError(() => open(listener.address, { sasl: { mechanism: 'plain', username: 'alice', password: 'wonderland' } }), 'UNSUPPORTED', /SASL mechanism PLAIN at .* the broker offers SCRAM-SHA-512/);
    const plainListener = await serve();
    await expectError(() => open(plainListener.listener.address, { sasl: { mechanism: 'plain', username: 'alice', password: 'wonderland' } }), 'UNSUPPORTED', /the broker offers none/);
  });
});

describe('TLS', () => {
  it('connects with the CA given, with SCRAM on top; refuses a certificate it cannot verify with NETWORK_ERROR', async () => {
    const { broker, listener } = await serve({}, { tls: { key, cert } });
    await broker.createTopic('t');
    await metadataWorks(await open(listener.address, { ssl: { ca: [cert] } }));
    const e = await expectError(() => open(listener.address, { ssl: true }), 'NETWORK_ERROR', /cannot connect to the broker at .*certificate/i);
    expect(e.cause).toBeInstanceOf(Error);
    const secured = await serve({}, { tls: { key, cert }, sasl: { mechanism: 'scram-sha-256', users } });
    await secured.broker.createTopic('t');
    await metadataWorks(await open(secured.listener.address, { ssl: { ca: [cert] }, sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'wonderland' } }));
  });
});
