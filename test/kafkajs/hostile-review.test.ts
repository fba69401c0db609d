/**
 * What a hostile review of kafkalite/kafkajs found, each as KafkaJS 2.2 behaves: a failed join is a
 * crash (run() resolves, CRASH, the error through the KafkaJS logger — nothing on stderr), a
 * subscribe() not awaited before run(), the module's default export, helpers that take an instance
 * typed by `kafkajs`, Kafka's error type on a refused join, config errors that name the value.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type * as KafkaJS from 'kafkajs';
import { AssignerProtocol, Kafka, KafkaJSProtocolError, closeAllClusters, logLevel, resetCluster, type PartitionAssigner } from 'kafkalite/kafkajs';
import { brokers } from './helpers.js';

const logs: { level: number; message: string }[] = [];
let kafka: Kafka;
const open: { disconnect(): Promise<void> }[] = [];

function client(): Kafka {
  // The test helpers silence KafkaJS logs (KAFKAJS_LOG_LEVEL); these tests read them.
  const saved = process.env.KAFKAJS_LOG_LEVEL;
  process.env.KAFKAJS_LOG_LEVEL = 'WARN';
  kafka = new Kafka({ clientId: 'hostile', brokers: brokers(), logLevel: logLevel.WARN, logCreator: () => ({ level, log }) => void logs.push({ level, message: log.message }) });
  process.env.KAFKAJS_LOG_LEVEL = saved;
  return kafka;
}

afterEach(async () => {
  for (const c of open.splice(0)) await c.disconnect();
  await resetCluster(kafka);
  logs.length = 0;
});
afterAll(() => closeAllClusters());

const named =
  (name: string, assign: () => Promise<never>): PartitionAssigner =>
  () => ({
    name,
    version: 0,
    protocol: ({ topics }) => ({ name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }),
    assign,
  });

describe('kafkalite/kafkajs after a hostile review', () => {
  it('an assigner that throws crashes the consumer as KafkaJS does: run() resolves, CRASH carries the error, the logger (not stderr) has it', async () => {
    const k = client();
    await k.admin().createTopics({ topics: [{ topic: 't' }] });
    const stderr = vi.spyOn(process.stderr, 'write');
    const consumer = k.consumer({ groupId: 'g', partitionAssigners: [named('boom', async () => Promise.reject(new Error('assign failed')))], retry: { retries: 0 } });
    open.push(consumer);
    const crashed = new Promise<{ error: Error; restart: boolean }>((resolve) => consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload)));
    await consumer.subscribe({ topic: 't' });
    await consumer.run({ eachMessage: async () => undefined });
    const { error, restart } = await crashed;
    expect(error.message).toBe('assign failed');
    await expect.poll(() => logs.map((l) => l.message)).toContain('Crash: Error: assign failed');
    expect(restart).toBe(false); // not retriable, as KafkaJS decides
    expect(stderr.mock.calls.filter(([chunk]) => String(chunk).includes('kafkalite'))).toEqual([]);
    stderr.mockRestore();
  });

  it('a subscribe() not awaited before run() is the subscription run() joins with', async () => {
    const k = client();
    const consumer = k.consumer({ groupId: 'a' });
    open.push(consumer);
    const seen: string[] = [];
    void consumer.subscribe({ topic: 'q', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    const producer = k.producer();
    open.push(producer);
    await producer.connect();
    await producer.send({ topic: 'q', messages: [{ value: 'one' }, { value: 'two' }] });
    await expect.poll(() => seen).toEqual(['one', 'two']);
  });

  it("has a default export holding every name, so `import kafkajs from 'kafkajs'` works when mocked with this module", async () => {
    const mod = await import('kafkalite/kafkajs');
    expect(mod.default.Kafka).toBe(mod.Kafka);
    expect(mod.default.AssignerProtocol).toBe(mod.AssignerProtocol);
    expect(Object.keys(mod.default).sort()).toEqual(Object.keys(mod).filter((n) => n !== 'default').sort());
  });

  it('takes an instance typed by kafkajs in resetCluster / getBroker (a compile-time check), and refuses what is not one at run time', async () => {
    const app: KafkaJS.Kafka = client();
    await resetCluster(app);
    await expect(resetCluster({ producer: 1, consumer: 1, admin: 1 })).rejects.toThrow(/brokers list or a Kafka instance/);
  });

  it("a join the group refuses is Kafka's protocol error, with its type (INCONSISTENT_GROUP_PROTOCOL)", async () => {
    const k = client();
    await k.admin().createTopics({ topics: [{ topic: 't' }] });
    const never = (): Promise<never> => new Promise(() => undefined);
    const x = k.consumer({ groupId: 'g', partitionAssigners: [named('X', async () => [] as never)] });
    const y = k.consumer({ groupId: 'g', partitionAssigners: [named('Y', never)] });
    open.push(x, y);
    await x.subscribe({ topic: 't' });
    await x.run({ eachMessage: async () => undefined });
    const crashed = new Promise<Error>((resolve) => y.on(y.events.CRASH, ({ payload }) => resolve(payload.error)));
    await y.subscribe({ topic: 't' });
    await y.run({ eachMessage: async () => undefined });
    const error = await crashed;
    expect(error).toBeInstanceOf(KafkaJSProtocolError);
    expect(error).toMatchObject({ type: 'INCONSISTENT_GROUP_PROTOCOL', code: 23 });
  });

  it('an assigner whose memberAssignment is not bytes crashes the consumer, saying so (not an empty assignment)', async () => {
    const k = client();
    await k.admin().createTopics({ topics: [{ topic: 't' }] });
    const plain: PartitionAssigner = () => ({
      name: 'plain',
      version: 0,
      protocol: ({ topics }) => ({ name: 'plain', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) }),
      assign: async ({ members }) => members.map((m) => ({ memberId: m.memberId, memberAssignment: { t: [0] } as unknown as Buffer })),
    });
    const consumer = k.consumer({ groupId: 'g', partitionAssigners: [plain] });
    open.push(consumer);
    const crashed = new Promise<Error>((resolve) => consumer.on(consumer.events.CRASH, ({ payload }) => resolve(payload.error)));
    await consumer.subscribe({ topic: 't' });
    await consumer.run({ eachMessage: async () => undefined });
    expect((await crashed).message).toMatch(/memberAssignment that is not bytes \(got object\)/);
  });

  it("describeGroups returns the leader's assignment bytes as its assigner made them (version, userData)", async () => {
    const k = client();
    await k.admin().createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const versioned: PartitionAssigner = () => ({
      name: 'versioned',
      version: 3,
      protocol: ({ topics }) => ({ name: 'versioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 3, topics, userData: Buffer.alloc(0) }) }),
      assign: async ({ members }) =>
        members.map((m) => ({ memberId: m.memberId, memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 3, assignment: { t: [0, 1] }, userData: Buffer.from('assigned-A') }) })),
    });
    const consumer = k.consumer({ groupId: 'described', partitionAssigners: [versioned] });
    open.push(consumer);
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.subscribe({ topic: 't' });
    await consumer.run({ eachMessage: async () => undefined });
    await joined;
    const { groups } = await k.admin().describeGroups(['described']);
    const decoded = AssignerProtocol.MemberAssignment.decode(groups[0]!.members[0]!.memberAssignment);
    expect(decoded).toMatchObject({ version: 3, assignment: { t: [0, 1] } });
    expect(decoded!.userData.toString()).toBe('assigned-A');
  });

  it('config and partition errors name the bad value in their cause', async () => {
    const admin = client().admin();
    // KafkaJS' errors keep Kafka's messages; the value is named down the cause chain (aggregate → topic → protocol → why).
    const causeOf = async (p: Promise<unknown>) => {
      const messages: string[] = [];
      let e = (await p.then(() => undefined, (x: unknown) => x)) as { errors?: unknown[]; cause?: unknown; message?: string } | undefined;
      e = (e?.errors?.[0] as typeof e) ?? e;
      for (; e !== undefined && e !== null; e = e.cause as typeof e) messages.push(String(e.message));
      return messages.join(' / ');
    };
    expect(await causeOf(admin.createTopics({ topics: [{ topic: 'a', configEntries: [{ name: 'retention.ms', value: 'abc' }] }] }))).toMatch(/retention\.ms .*"abc"/);
    expect(await causeOf(admin.createTopics({ topics: [{ topic: 'b', configEntries: [{ name: 'foo.bar', value: '1' }] }] }))).toMatch(/"foo\.bar"/);
    expect(await causeOf(admin.createTopics({ topics: [{ topic: 'c', numPartitions: -5 }] }))).toMatch(/-5/);
  });
});
