/**
 * SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and TLS on the listener, checked with KafkaJS (the
 * real package, over TCP) and with a bare client for what KafkaJS never sends.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { Broker } from 'kafkalite';
import { expectError } from '../helpers.js';
import { kcat, requireKcat } from './clients/tools.js';
import { serve } from './listener-helpers.js';
import { WireClient } from './wire-client.js';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
const cert = readFileSync(new URL('cert.pem', TLS_DIR));
const key = readFileSync(new URL('key.pem', TLS_DIR));
const users = { alice: 'wonderland', 'b,o=b': 'pässword' };

function kafkajs(address: string, sasl?: SASLOptions, ssl?: { ca: Buffer[] }) {
  return new Kafka({ brokers: [address], clientId: 'security-test', logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 3000, ...(sasl ? { sasl } : {}), ...(ssl ? { ssl } : {}) });
}

describe('SASL', () => {
  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)('%s: KafkaJS logs in and works; a wrong password is refused', async (mechanism) => {
    const { broker, listener } = await serve({}, { sasl: { mechanism, users } });
    await broker.createTopic('t');
    for (const [username, password] of Object.entries(users)) {
      const producer = kafkajs(listener.address, { mechanism, username, password } as SASLOptions).producer();
      await producer.connect();
      await producer.send({ topic: 't', messages: [{ value: username }] });
      await producer.disconnect();
    }
    expect((await broker.topic('t').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(Object.keys(users));
    const admin = kafkajs(listener.address, { mechanism, username: 'alice', password: 'nope' } as SASLOptions).admin();
    await expect(admin.connect()).rejects.toThrow(/SASL|auth/i);
    const stranger = kafkajs(listener.address, { mechanism, username: 'mallory', password: 'x' } as SASLOptions).admin();
    await expect(stranger.connect()).rejects.toThrow(/SASL|auth/i);
    await admin.disconnect();
    await stranger.disconnect();
  });

  it('serves only ApiVersions and the SASL APIs before authentication, closing on anything else', async () => {
    const { client } = await serve({}, { sasl: { mechanism: 'plain', users } });
    const c = await client();
    expect((await c.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })).errorCode).toBe(0);
    c.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false }).catch(() => undefined);
    await c.closed;
  });

  it('offers its one mechanism; a SaslAuthenticate without handshake, or a failed one, is answered and then the connection closed', async () => {
    const { client } = await serve({}, { sasl: { mechanism: 'scram-sha-512', users } });
    const c = await client();
    const h = await c.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    expect(h).toMatchObject({ errorCode: 33, mechanisms: ['SCRAM-SHA-512'] });
    const early = await client();
    const r = await early.request(ApiKey.SaslAuthenticate, 1, { authBytes: Buffer.from('x') });
    expect(r.errorCode).toBe(34);
    await early.closed;
    const bad = await client();
    expect((await bad.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-512' })).errorCode).toBe(0);
    const failed = await bad.request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('not scram') });
    expect(failed.errorCode).toBe(58);
    expect(failed.errorMessage).toMatch(/Authentication failed/);
    await bad.closed;
  });

  it('takes bare tokens after a v0 handshake (the form older clients use)', async () => {
    const { broker, client } = await serve({}, { sasl: { mechanism: 'plain', users } });
    await broker.createTopic('t');
    const c = await client();
    expect((await c.request(ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    const reply = await c.rawExchange(Buffer.from('\0alice\0wonderland'));
    expect(reply.length).toBe(0);
    const md = await c.request(ApiKey.Metadata, 9, { topics: null, allowAutoTopicCreation: false });
    expect(md.topics.map((t) => t.name)).toContain('t');
    const wrong = await client();
    await wrong.request(ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' });
    wrong.rawExchange(Buffer.from('\0alice\0nope')).catch(() => undefined);
    await wrong.closed;
  });

  it('without SASL configured, a handshake is UNSUPPORTED_SASL_MECHANISM with no mechanisms', async () => {
    const { client } = await serve();
    expect(await (await client()).request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' })).toMatchObject({ errorCode: 33, mechanisms: [] });
  });
});

describe('SASL with librdkafka (kcat)', () => {
  it.each(['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] as const)('%s: kcat logs in (librdkafka repeats its nonce in the final message, which Kafka accepts); a wrong password is refused', async (mechanism) => {
    requireKcat();
    const { listener } = await serve({}, { sasl: { mechanism: mechanism.toLowerCase() as 'plain', users } });
    const login = (password: string, waitS: number) => kcat(['-b', listener.address, '-X', 'security.protocol=sasl_plaintext', '-X', `sasl.mechanism=${mechanism}`, '-X', 'sasl.username=alice', '-X', `sasl.password=${password}`, '-L', '-m', String(waitS)], { timeoutMs: 15_000 });
    const ok = await login('wonderland', 5);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('topic "__consumer_offsets"');
    const bad = await login('nope', 1);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Authentication failed|SASL/i);
  });
});

describe('TLS', () => {
  it('refuses TLS options without a certificate, or that do not load, naming what is wrong', async () => {
    const broker = await Broker.open({ logger: 'silent' });
    await expectError(() => broker.listen({ port: 0, tls: {} }), 'INVALID_ARGUMENT', /tls needs the server's key and cert/);
    await expectError(() => broker.listen({ port: 0, tls: { key: 'nope', cert: 'nope' } }), 'INVALID_ARGUMENT', /tls options do not load/);
    await expectError(() => broker.listen({ port: 0, advertisedHost: 'a b' }), 'INVALID_ARGUMENT', /advertisedHost .*"a b"/);
    await broker.close();
  });

  it('serves KafkaJS over TLS, with and without SCRAM on top', async () => {
    const { broker, listener } = await serve({}, { tls: { key, cert } });
    await broker.createTopic('t');
    const producer = kafkajs(listener.address, undefined, { ca: [cert] }).producer();
    await producer.connect();
    await producer.send({ topic: 't', messages: [{ value: 'over tls' }] });
    await producer.disconnect();
    expect((await broker.topic('t').partition(0).read(0))[0]!.value!.toString()).toBe('over tls');
    const secured = await serve({}, { tls: { key, cert }, sasl: { mechanism: 'scram-sha-256', users } });
    const admin = kafkajs(secured.listener.address, { mechanism: 'scram-sha-256', username: 'alice', password: 'wonderland' }, { ca: [cert] }).admin();
    await admin.connect();
    expect(await admin.listTopics()).toEqual(['__consumer_offsets']);
    await admin.disconnect();
  });

  it('drops a plain-TCP client on a TLS listener without harm to the others', async () => {
    const { listener } = await serve({}, { tls: { key, cert } });
    const plain = await WireClient.connect(listener.address);
    plain.request(ApiKey.ApiVersions, 0, {}).catch(() => undefined);
    await plain.closed;
    const good = await WireClient.connect(listener.address, { ca: [cert] });
    expect((await good.request(ApiKey.ApiVersions, 0, {})).errorCode).toBe(0);
    good.close();
  });
});
