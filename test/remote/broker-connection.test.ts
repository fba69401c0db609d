/** BrokerConnection against a real kafkalite listener, and against a scripted fake broker for what a listener never does. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { KafkaliteError, ManualClock } from 'kafkalite';
import { BrokerConnection } from '../../src/remote/broker-connection.js';
import { ADVERTISED } from '../../src/wire/dispatcher.js';
import { ApiKey, apis, type ApiKey as ApiKeyType } from '../../src/wire/protocol/index.js';
import { expectError } from '../helpers.js';
import { clientBatch, produceRequest, serve } from '../wire/listener-helpers.js';
import { ALL_APIS, answerApiVersions, fakeBroker, withApiVersions, type FakeRequest } from './fake-broker.js';

/** A Fetch of partition 0 (from v13 on, Fetch names topics by id: Metadata gives it). */
const fetchRequest = (topic: string, fetchOffset: number, maxWaitMs = 0, topicId?: string) => ({
  maxWaitMs,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  topics: [{ topic, topicId, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }] }],
});

async function openTo(address: string, extra: Partial<Parameters<typeof BrokerConnection.open>[0]> = {}): Promise<BrokerConnection> {
  const at = address.lastIndexOf(':');
  return BrokerConnection.open({ host: address.slice(0, at), port: Number(address.slice(at + 1)), clientId: 'remote-test', ...extra });
}

/** A promise's state after everything already due has run. */
async function settledYet(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setImmediate(r));
  return settled;
}

describe('BrokerConnection against a kafkalite listener', () => {
  it('negotiates per API the newest version both speak', async () => {
    const { listener } = await serve();
    const c = await openTo(listener.address);
    for (const { apiKey, maxVersion } of ADVERTISED) {
      expect(c.version(apiKey as ApiKeyType), `api key ${apiKey}`).toBe(Math.min(maxVersion, apiKey === ApiKey.AddPartitionsToTxn ? 3 : apis[apiKey as ApiKeyType].maxStableVersion));
      expect(c.brokerVersions(apiKey)).toEqual([ADVERTISED.find((a) => a.apiKey === apiKey)!.minVersion, maxVersion]);
    }
    await c.close();
  });

  it('produces a RecordBatch and fetches it back; acks=0 resolves undefined and keeps the line in order', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const c = await openTo(listener.address);
    const md = await c.send(ApiKey.Metadata, { topics: [{ name: 't' }], allowAutoTopicCreation: false });
    expect(md.topics[0]).toMatchObject({ name: 't', errorCode: 0 });
    expect(md.topics[0]!.partitions[0]).toMatchObject({ partitionIndex: 0, leaderId: md.brokers[0]!.nodeId });
    const produced = await c.send(ApiKey.Produce, produceRequest('t', 0, clientBatch(['a', 'b'])));
    expect(produced!.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await c.send(ApiKey.Produce, produceRequest('t', 0, clientBatch(['c']), 0))).toBeUndefined();
    const fetched = await c.send(ApiKey.Fetch, fetchRequest('t', 0, 0, md.topics[0]!.topicId));
    const p = fetched.responses[0]!.partitions[0]!;
    expect(p).toMatchObject({ errorCode: 0, highWatermark: 3 });
    expect((await broker.topic('t').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(['a', 'b', 'c']);
    expect(p.records!.length).toBeGreaterThan(0);
    await c.close();
  });

  it('pipelines: many un-awaited requests each resolve with their own response', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const c = await openTo(listener.address);
    const sends = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? c.send(ApiKey.Metadata, { topics: [{ name: `missing-${i}` }], allowAutoTopicCreation: false }).then((r) => r.topics[0]!.name)
        : c.send(ApiKey.Produce, produceRequest('t', 0, clientBatch([`v${i}`]))).then((r) => r!.responses[0]!.partitionResponses[0]!.baseOffset),
    );
    expect(c.inFlight).toBe(40);
    const results = await Promise.all(sends);
    results.forEach((r, i) => (i % 2 === 0 ? expect(r).toBe(`missing-${i}`) : expect(r).toBe((i - 1) / 2)));
    expect((await broker.topic('t').partition(0).read(0)).map((r) => r.value!.toString())).toEqual(results.filter((_, i) => i % 2 === 1).map((_, k) => `v${2 * k + 1}`));
    expect(c.inFlight).toBe(0);
    await c.close();
  });

  it('rejects every request in flight with a retriable NETWORK_ERROR when the connection is lost, and is dead after', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const c = await openTo(listener.address);
    const longPoll = c.send(ApiKey.Fetch, fetchRequest('t', 0, 60_000));
    const behind = c.send(ApiKey.Metadata, { topics: null });
    await listener.close();
    const lost = await expectError(() => longPoll, 'NETWORK_ERROR', /connection to the broker at .* was lost/);
    expect(lost.retriable).toBe(true);
    await expectError(() => behind, 'NETWORK_ERROR');
    await c.closed;
    expect(c.isClosed).toBe(true);
    await expectError(() => c.send(ApiKey.Metadata, { topics: null }), 'NETWORK_ERROR');
  });

  it('close() is idempotent, rejects what is in flight with CLOSED and every later send', async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('t');
    const c = await openTo(listener.address);
    const longPoll = c.send(ApiKey.Fetch, fetchRequest('t', 0, 60_000));
    await Promise.all([c.close(), c.close()]);
    const e = await expectError(() => longPoll, 'CLOSED');
    expect(e.retriable).toBe(false);
    await expectError(() => c.send(ApiKey.Metadata, { topics: null }), 'CLOSED');
    await c.close();
  });

  it('refuses a request the codec cannot encode with INVALID_ARGUMENT and stays up', async () => {
    const { listener } = await serve();
    const c = await openTo(listener.address);
    const listOffsets = { replicaId: -1, topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp: 1.5 }] }] };
    await expectError(() => c.send(ApiKey.ListOffsets, listOffsets), 'INVALID_ARGUMENT', /cannot encode a ListOffsets v\d+ request: int64 value 1.5/);
    expect((await c.send(ApiKey.Metadata, { topics: [] })).brokers).toHaveLength(1);
    await c.close();
  });

  it('refuses bad options and an unreachable broker (NETWORK_ERROR, retriable, the OS error as cause)', async () => {
    await expectError(() => BrokerConnection.open({ host: '', port: 1 }), 'INVALID_ARGUMENT', /host must be a non-empty string/);
    await expectError(() => BrokerConnection.open({ host: 'h', port: 70000 }), 'INVALID_ARGUMENT', /port must be an integer/);
    await expectError(() => BrokerConnection.open({ host: 'h', port: 1, requestTimeoutMs: 0 }), 'INVALID_ARGUMENT', /requestTimeoutMs .*\(got 0\)/);
    await expectError(() => BrokerConnection.open({ host: 'h', port: 1, bogus: 1 } as never), 'INVALID_ARGUMENT', /unknown connection option "bogus"/);
    await expectError(() => BrokerConnection.open({ host: 'h', port: 1, sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } as never }), 'INVALID_ARGUMENT', /sasl.mechanism/);
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const e = await expectError(() => BrokerConnection.open({ host: '127.0.0.1', port }), 'NETWORK_ERROR', /cannot connect to the broker at 127\.0\.0\.1:\d+/);
    expect(e.retriable).toBe(true);
    expect((e.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});

describe('BrokerConnection against a scripted broker', () => {
  it('falls back from ApiVersions v3 to the version the broker names after UNSUPPORTED_VERSION, or to v0', async () => {
    for (const [named, expected] of [[2, 2], [undefined, 0]] as const) {
      const fake = await fakeBroker((req) => {
        if (req.apiKey !== ApiKey.ApiVersions) return;
        if (req.apiVersion === 3) {
          const apiKeys = named === undefined ? [] : [{ apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: named }];
          req.reply({ errorCode: 35, apiKeys }, 0); // KIP-511: in v0's layout
        } else answerApiVersions(req, [{ apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 4 }]);
      });
      const c = await openTo(fake.address);
      expect(fake.received.map((r) => r.apiVersion)).toEqual([3, expected]);
      expect(c.version(ApiKey.Metadata)).toBe(4);
      await c.close();
    }
  });

  it('refuses an API with no version in common, or not offered, with UNSUPPORTED naming it', async () => {
    const fake = await fakeBroker((req) =>
      answerApiVersions(req, [
        { apiKey: ApiKey.Produce, minVersion: 12, maxVersion: 13 },
        { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 20 },
      ]),
    );
    const c = await openTo(fake.address);
    expect(() => c.version(ApiKey.Produce)).toThrow(/Produce with the broker at .* is not supported: no version in common: the broker speaks versions 12-13, kafkalite speaks 0-11/);
    expect(() => c.version(ApiKey.Fetch)).toThrow(KafkaliteError);
    await expectError(() => c.send(ApiKey.Fetch, fetchRequest('t', 0)), 'UNSUPPORTED', /Fetch .*the broker does not offer it/);
    await expectError(() => c.send(ApiKey.Metadata, { topics: null }, { version: 13 }), 'UNSUPPORTED', /Metadata .*version 13 is not in common/);
    expect(c.version(ApiKey.Metadata)).toBe(apis[ApiKey.Metadata].maxStableVersion);
    await c.close();
  });

  it('times a request out after requestTimeoutMs (REQUEST_TIMED_OUT, retriable) and closes the connection; a Fetch gets its maxWaitMs on top', async () => {
    const clock = new ManualClock();
    const fake = await fakeBroker(withApiVersions());
    const c = await openTo(fake.address, { clock, requestTimeoutMs: 1000 });
    const fetch = c.send(ApiKey.Fetch, fetchRequest('t', 0, 5000));
    const metadata = c.send(ApiKey.Metadata, { topics: null });
    const timedOut = expectError(() => metadata, 'REQUEST_TIMED_OUT', /Metadata v\d+ \(correlation id \d+\) to 127\.0\.0\.1:\d+ got no response within 1000 ms/);
    // The Fetch is not late yet, but the line is closed with the timed-out request in it.
    const closedWith = expectError(() => fetch, 'NETWORK_ERROR', /closed because Metadata .* timed out/);
    await clock.advance(1000);
    expect((await timedOut).retriable).toBe(true);
    expect((await closedWith).retriable).toBe(true);
    expect(c.isClosed).toBe(true);

    const c2 = await openTo(fake.address, { clock, requestTimeoutMs: 1000 });
    const longPoll = c2.send(ApiKey.Fetch, fetchRequest('t', 0, 5000));
    const late = expectError(() => longPoll, 'REQUEST_TIMED_OUT', /Fetch .*within 6000 ms/);
    await clock.advance(1000);
    expect(await settledYet(longPoll)).toBe(false);
    await clock.advance(5000);
    await late;
  });

  it('times out connecting (a TLS handshake nobody answers) with NETWORK_ERROR', async () => {
    const clock = new ManualClock();
    const fake = await fakeBroker(() => undefined);
    const opening = expectError(() => openTo(fake.address, { clock, ssl: true, connectTimeoutMs: 500 }), 'NETWORK_ERROR', /connecting to the broker at 127\.0\.0\.1:\d+ timed out after 500 ms/);
    await clock.advance(500);
    await opening;
  });

  it('an aborted signal rejects that one call; its response is dropped when it comes and the line stays in order', async () => {
    const held: FakeRequest[] = [];
    const fake = await fakeBroker(withApiVersions((req) => held.push(req)));
    const c = await openTo(fake.address);
    const controller = new AbortController();
    const fetch = c.send(ApiKey.Fetch, fetchRequest('t', 0, 5000), { signal: controller.signal });
    const metadata = c.send(ApiKey.Metadata, { topics: [{ name: 'x' }] });
    controller.abort(new Error('no longer needed'));
    await expect(fetch).rejects.toThrow('no longer needed');
    expect(c.inFlight).toBe(2);
    while (held.length < 2) await new Promise((r) => setImmediate(r));
    held[0]!.reply({ responses: [] });
    held[1]!.reply({ brokers: [], topics: [{ name: 'x', errorCode: 3, partitions: [] }] });
    expect((await metadata).topics[0]!.name).toBe('x');
    expect(c.isClosed).toBe(false);
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(c.send(ApiKey.Metadata, { topics: [] }, { signal: pre.signal })).rejects.toThrow('already');
    await c.close();
  });

  it('a response out of order, or a broken frame, is a NETWORK_ERROR that closes the connection', async () => {
    const fake = await fakeBroker(withApiVersions((req) => req.writeRaw(Buffer.from([0, 0, 0, 4, 0x7f, 0, 0, 0]))));
    const c = await openTo(fake.address);
    await expectError(() => c.send(ApiKey.Metadata, { topics: [] }), 'NETWORK_ERROR', /correlation id 2130706432 \(expected \d+\)/);
    expect(c.isClosed).toBe(true);
    const fake2 = await fakeBroker(withApiVersions((req) => req.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff]))));
    const c2 = await openTo(fake2.address);
    await expectError(() => c2.send(ApiKey.Metadata, { topics: [] }), 'NETWORK_ERROR', /size prefix is wrong/);
  });

  it('refuses a broker that answers ApiVersions with an error', async () => {
    const fake = await fakeBroker((req) => req.reply({ errorCode: 42, apiKeys: ALL_APIS }));
    await expectError(() => openTo(fake.address), 'UNSUPPORTED', /ApiVersions with the broker at .* answered error code 42/);
  });
});
