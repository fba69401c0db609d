/**
 * Consumer groups over the wire (JoinGroup, SyncGroup, Heartbeat, LeaveGroup on the classic
 * protocol): real KafkaJS consumers over TCP splitting a topic and rebalancing when one leaves,
 * kcat `-G` processes sharing partitions, kafka-python subscribing and committing — and the
 * committed offsets are what in-process `broker.group(id)` reads.
 */
import { describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import type { Broker } from 'kafkalite';
import { serve } from '../listener-helpers.js';
import { KCAT, python, requireKafkaPython, requireKcat } from './tools.js';
import { spawn } from 'node:child_process';

function kafka(address: string, clientId: string): Kafka {
  return new Kafka({ brokers: [address], clientId, logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function committedSum(broker: Broker, groupId: string, topic: string, partitions: number): Promise<number> {
  let sum = 0;
  for (let partition = 0; partition < partitions; partition++) sum += (await broker.group(groupId).committed({ topic, partition })) ?? 0;
  return sum;
}

describe('consumer groups over the wire', () => {
  it('three KafkaJS consumers split six partitions, commit, and the two left take over when one leaves', { timeout: 60_000 }, async () => {
    const { broker, listener } = await serve();
    await broker.createTopic('orders', { partitions: 6 });
    const producer = broker.producer();
    const send = async (from: number, count: number) => {
      for (let i = from; i < from + count; i++) await producer.send({ topic: 'orders', messages: [{ key: `k${i}`, value: `v${i}` }] });
    };
    await send(0, 60);

    const seen = new Map<string, string[]>();
    const assigned = new Map<string, number[]>();
    const consumers: Consumer[] = [];
    for (const name of ['a', 'b', 'c']) {
      const consumer = kafka(listener.address, name).consumer({ groupId: 'billing', sessionTimeout: 10_000, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
      consumer.on(consumer.events.GROUP_JOIN, (e: { payload: { memberAssignment: Record<string, number[]> } }) => {
        assigned.set(name, e.payload.memberAssignment.orders ?? []);
      });
      seen.set(name, []);
      await consumer.connect();
      await consumer.subscribe({ topic: 'orders', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }: EachMessagePayload) => void seen.get(name)!.push(message.value!.toString()) });
      consumers.push(consumer);
    }
    const all = () => [...seen.values()].flat();
    await until('60 records read once across the group, each member owning two partitions', () => all().length >= 60 && [...assigned.values()].every((p) => p.length === 2) && assigned.size === 3);
    expect(new Set(all()).size).toBe(60);
    expect([...assigned.values()].flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const members = broker.group('billing').members();
    expect(members.map((m) => m.clientId).sort()).toEqual(['a', 'b', 'c']);
    expect(members.flatMap((m) => m.assignment.map((tp) => tp.partition)).sort()).toEqual([0, 1, 2, 3, 4, 5]);

    // One leaves (LeaveGroup): the other two take its partitions and read what comes next.
    await consumers[2]!.disconnect();
    await send(60, 30);
    await until('the two left own all six partitions and read the 30 new records', () => {
      const owned = [assigned.get('a')!, assigned.get('b')!].flat();
      return owned.length === 6 && seen.get('a')!.length + seen.get('b')!.length + seen.get('c')!.length >= 90;
    });
    expect(new Set(all()).size).toBe(90);
    await until('offsets committed for every partition', async () => {
      return (await committedSum(broker, 'billing', 'orders', 6)) === 90;
    });
    for (const c of consumers.slice(0, 2)) await c.disconnect();
    expect(broker.group('billing').members()).toHaveLength(0);
  });

  it('kcat -G: three processes in one group split six partitions; each record is read once, by the owner of its partition', { timeout: 60_000 }, async () => {
    requireKcat();
    const { broker, listener } = await serve();
    await broker.createTopic('events', { partitions: 6 });
    const outputs: string[] = ['', '', ''];
    const children = outputs.map((_, i) => {
      const child = spawn(KCAT, ['-b', listener.address, '-u', '-G', 'kcat-group', '-o', 'beginning', '-f', '%p|%o|%s\\n', '-X', 'session.timeout.ms=6000', 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => (outputs[i] += d.toString('utf8')));
      return child;
    });
    const linesOf = (out: string) => out.split('\n').filter((l) => l.length > 0);
    try {
      const group = broker.group('kcat-group');
      await until('the three kcat processes own two partitions each', () => group.state === 'Stable' && group.members().length === 3 && group.members().every((m) => m.assignment.length === 2));
      const producer = broker.producer();
      for (let i = 0; i < 60; i++) await producer.send({ topic: 'events', messages: [{ key: `k${i}`, value: `v${i}` }] });
      await until('kcat members read all 60 records', () => outputs.flatMap(linesOf).length >= 60);
      await new Promise((r) => setTimeout(r, 200));
      const lines = outputs.flatMap(linesOf);
      expect(lines).toHaveLength(60);
      expect(new Set(lines.map((l) => l.split('|')[2])).size).toBe(60);
      // Each process read exactly the partitions the group assigned it.
      for (const [i, out] of outputs.entries()) {
        const read = new Set(linesOf(out).map((l) => Number(l.split('|')[0])));
        expect(read.size, `kcat ${i} read from ${[...read].join(',')}`).toBeGreaterThan(0);
        expect(group.members().some((m) => [...read].every((p) => m.assignment.some((tp) => tp.partition === p)))).toBe(true);
      }
    } finally {
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r)))));
    }
    // kcat commits what it read when it closes, and leaves the group.
    await until('kcat left the group', () => broker.group('kcat-group').members().length === 0);
    expect(await committedSum(broker, 'kcat-group', 'events', 6)).toBe(60);
  });

  it('kafka-python subscribes in a group, reads and commits; the commit is what broker.group(id).committed reads', async () => {
    requireKafkaPython();
    const { broker, listener } = await serve();
    await broker.createTopic('jobs', { partitions: 2 });
    const producer = broker.producer();
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'jobs', messages: [{ value: `j${i}`, partition: i % 2 }] });
    const script = `
import json, sys
from kafka import KafkaConsumer
c = KafkaConsumer('jobs', bootstrap_servers=sys.argv[1], group_id='workers', auto_offset_reset='earliest', enable_auto_commit=False, consumer_timeout_ms=5000, api_version=(2, 5, 0))
values = []
for m in c:
    values.append(m.value.decode())
    if len(values) == 10:
        break
c.commit()
assigned = sorted(tp.partition for tp in c.assignment())
c.close()
print(json.dumps({'values': sorted(values), 'assigned': assigned}))
`;
    const { result, run } = await python(script, [listener.address]);
    expect(result, run.stderr).toEqual({ values: Array.from({ length: 10 }, (_, i) => `j${i}`).sort(), assigned: [0, 1] });
    expect(await broker.group('workers').committed({ topic: 'jobs', partition: 0 })).toBe(5);
    expect(await broker.group('workers').committed({ topic: 'jobs', partition: 1 })).toBe(5);
  });
});
