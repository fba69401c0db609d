/**
 * The librdkafka mock-cluster harness, checked with kcat (the same librdkafka, as a client): the
 * brokers it lists, records going through it, and each command having the effect it names. Fails
 * (never skips) when cc, librdkafka-dev or kcat is missing, saying what to install.
 */
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/wire/protocol/index.js';
import { kcat, requireKcat } from '../wire/clients/tools.js';
import { WireClient } from '../wire/wire-client.js';
import { mockClusterUnavailable, startMockCluster, type MockCluster } from './mock-cluster.js';

interface KcatMetadata {
  brokers: { id: number; name: string }[];
  topics: { topic: string; error?: string; partitions: { partition: number; leader: number; replicas: { id: number }[] }[] }[];
}

const PRODUCE = 0;
const TOPIC_AUTHORIZATION_FAILED = 29;

// Each test that needs kcat or the cluster checks for it itself (no beforeAll): a missing tool
// fails every such test with the reason, instead of leaving them reported as skipped.
async function metadata(cluster: MockCluster, topic?: string): Promise<KcatMetadata> {
  requireKcat();
  const r = await kcat(['-b', cluster.bootstrap, '-L', '-J', ...(topic === undefined ? [] : ['-t', topic])]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as KcatMetadata;
}

function produce(cluster: MockCluster, args: string[], input: string, config: string[] = []): ReturnType<typeof kcat> {
  requireKcat();
  return kcat(['-b', cluster.bootstrap, '-P', '-K', ':', ...args, ...config.flatMap((c) => ['-X', c])], { input });
}

async function consumeAll(cluster: MockCluster, topic: string): Promise<string[]> {
  requireKcat();
  const r = await kcat(['-b', cluster.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '%p|%o|%k|%s\\n']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l.length > 0);
}

describe('mock cluster harness', () => {
  // One cluster for these tests, started by the first that needs it (topic names keep them apart).
  let shared: Promise<MockCluster> | undefined;
  const mock = (): Promise<MockCluster> => (shared ??= startMockCluster());
  afterAll(async () => {
    await (await shared?.catch(() => undefined))?.close();
  });

  it('can run here: cc and librdkafka-dev are installed', () => {
    // `?? 'available'` so that a failure prints the whole reason, what to install included.
    expect(mockClusterUnavailable() ?? 'available').toBe('available');
  });

  it('prints a bootstrap list of three brokers, which the metadata lists as brokers 1 to 3', async () => {
    const cluster = await mock();
    const addresses = cluster.bootstrap.split(',');
    expect(addresses).toHaveLength(3);
    for (const a of addresses) expect(a).toMatch(/^127\.0\.0\.1:\d+$/);
    const { brokers } = await metadata(cluster);
    expect(brokers.map((b) => [b.id, b.name]).sort()).toEqual(addresses.map((a, i) => [i + 1, a]));
  });

  it('createTopic makes a topic whose keyed records kcat produces and consumes back, a key to one partition', async () => {
    const cluster = await mock();
    await cluster.createTopic('orders', 3);
    const t = (await metadata(cluster, 'orders')).topics.find((x) => x.topic === 'orders');
    expect(t?.partitions.map((p) => [p.partition, p.replicas.length])).toEqual([[0, 3], [1, 3], [2, 3]]);
    const sent = ['a:1', 'b:2', 'c:3', 'd:4', 'a:5', 'b:6'];
    const p = await produce(cluster, ['-t', 'orders'], sent.join('\n') + '\n');
    expect(p.code, p.stderr).toBe(0);
    const got = (await consumeAll(cluster, 'orders')).map((l) => l.split('|'));
    expect(got.map(([, , k, v]) => `${k}:${v}`).sort()).toEqual([...sent].sort());
    const partitionOf = new Map<string, string>();
    for (const [partition, , key] of got) {
      expect(partitionOf.get(key!) ?? partition).toBe(partition);
      partitionOf.set(key!, partition!);
    }
    // Within a partition the offsets run 0, 1, 2… in the order kcat sent them.
    for (const part of new Set(got.map(([partition]) => partition))) {
      const rows = got.filter(([partition]) => partition === part);
      expect(rows.map(([, offset]) => Number(offset))).toEqual(rows.map((_, i) => i));
      expect(rows.map(([, , k, v]) => `${k}:${v}`)).toEqual(sent.filter((s) => rows.some(([, , k, v]) => `${k}:${v}` === s)));
    }
  });

  it('setLeader moves a partition to the named broker, as the metadata shows', async () => {
    const cluster = await mock();
    await cluster.createTopic('leaders', 2);
    await cluster.setLeader('leaders', 0, 3);
    await cluster.setLeader('leaders', 1, 2);
    const t = (await metadata(cluster, 'leaders')).topics.find((x) => x.topic === 'leaders');
    expect(t?.partitions.map((p) => [p.partition, p.leader])).toEqual([[0, 3], [1, 2]]);
    await cluster.setLeader('leaders', 1, 1);
    const again = (await metadata(cluster, 'leaders')).topics.find((x) => x.topic === 'leaders');
    expect(again?.partitions.map((p) => [p.partition, p.leader])).toEqual([[0, 3], [1, 1]]);
  });

  it('brokerDown refuses connections to the broker, so a produce to its partition fails; brokerUp lets it through again', async () => {
    const cluster = await mock();
    await cluster.createTopic('downs', 1);
    await cluster.setLeader('downs', 0, 2);
    const [, address] = cluster.bootstrap.split(',');
    await cluster.brokerDown(2);
    expect(await connects(address!)).toBe(false);
    const failed = await produce(cluster, ['-t', 'downs', '-p', '0'], 'k:lost\n', ['message.timeout.ms=2000']);
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toMatch(/Delivery failed/);
    await cluster.brokerUp(2);
    expect(await connects(address!)).toBe(true);
    const ok = await produce(cluster, ['-t', 'downs', '-p', '0'], 'k:kept\n');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await consumeAll(cluster, 'downs')).toEqual(['0|0|k|kept']);
  });

  it('pushErrors fails the next requests of that API with the codes given, then lets them through', async () => {
    const cluster = await mock();
    await cluster.createTopic('errors', 1);
    await cluster.pushErrors(PRODUCE, [TOPIC_AUTHORIZATION_FAILED]);
    const refused = await produce(cluster, ['-t', 'errors'], 'k:refused\n');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Topic authorization failed/);
    const ok = await produce(cluster, ['-t', 'errors'], 'k:accepted\n');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await consumeAll(cluster, 'errors')).toEqual(['0|0|k|accepted']);
  });

  it('setCoordinator pins the coordinator FindCoordinator answers with, for groups and transactions', async () => {
    const cluster = await mock();
    await cluster.setCoordinator('group', 'g1', 2);
    await cluster.setCoordinator('transaction', 'tx1', 3);
    const client = await WireClient.connect(cluster.bootstrap.split(',')[0]!);
    try {
      const group = await client.request(ApiKey.FindCoordinator, 1, { key: 'g1', keyType: 0 });
      const txn = await client.request(ApiKey.FindCoordinator, 1, { key: 'tx1', keyType: 1 });
      expect([group.errorCode, group.nodeId, txn.errorCode, txn.nodeId]).toEqual([0, 2, 0, 3]);
      await cluster.setCoordinator('group', 'g1', 1);
      expect((await client.request(ApiKey.FindCoordinator, 1, { key: 'g1', keyType: 0 })).nodeId).toBe(1);
    } finally {
      client.close();
    }
  });

  it('setFollower answers ok for a known broker', async () => {
    const cluster = await mock();
    await cluster.createTopic('followed', 1);
    await cluster.setFollower('followed', 0, 2);
  });

  it('answers a bad command with error, and the typed methods reject with the reason', async () => {
    const cluster = await mock();
    expect(await cluster.command('bogus')).toBe('error unknown command or bad arguments');
    expect(await cluster.command('topic t notanumber 3')).toMatch(/^error /);
    expect(await cluster.command('')).toBe('error empty command');
    await cluster.createTopic('twice', 1);
    await expect(cluster.createTopic('twice', 1)).rejects.toThrow(/refused "topic twice 1 3": Broker: Topic already exists/);
    await expect(cluster.setLeader('twice', 0, 99)).rejects.toThrow(/Broker not available/);
    await expect(cluster.brokerDown(7)).rejects.toThrow(/refused "down 7"/);
    await expect(cluster.createTopic('two words', 1)).rejects.toThrow(/not a single word/);
    await expect(cluster.pushErrors(PRODUCE, [])).rejects.toThrow(/at least one error code/);
    await expect(cluster.command('up 1\nup 2')).rejects.toThrow(/one line/);
  });

  it('serialises commands fired without waiting: each gets its own answer, in order', async () => {
    const cluster = await mock();
    const answers = await Promise.all([
      cluster.command('topic q1 1 1'),
      cluster.command('nonsense'),
      cluster.command('topic q1 1 1'),
      cluster.command('leader q1 0 3'),
      cluster.command('up 9'),
    ]);
    expect(answers).toEqual(['ok', 'error unknown command or bad arguments', 'error Broker: Topic already exists', 'ok', 'error Broker: Broker not available']);
  });
});

describe('mock cluster lifecycle', () => {
  it('starts with as many brokers as asked', async () => {
    const one = await startMockCluster({ brokers: 1 });
    try {
      expect(one.bootstrap.split(',')).toHaveLength(1);
      expect((await metadata(one)).brokers.map((b) => b.id)).toEqual([1]);
    } finally {
      await one.close();
    }
  });

  it('refuses a broker count that is not a positive integer', async () => {
    await expect(startMockCluster({ brokers: 0 })).rejects.toThrow('brokers must be a positive integer (got 0)');
    await expect(startMockCluster({ brokers: 1.5 })).rejects.toThrow('brokers must be a positive integer (got 1.5)');
  });

  it('close() stops the brokers, is idempotent, and commands after it reject', async () => {
    const c = await startMockCluster({ brokers: 2 });
    const addresses = c.bootstrap.split(',');
    expect(await connects(addresses[0]!)).toBe(true);
    await Promise.all([c.close(), c.close()]);
    await c.close();
    for (const a of addresses) expect(await connects(a)).toBe(false);
    await expect(c.command('up 1')).rejects.toThrow('the mock cluster is closed');
    await expect(c.createTopic('late', 1)).rejects.toThrow('the mock cluster is closed');
  });
});

function connects(address: string): Promise<boolean> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
