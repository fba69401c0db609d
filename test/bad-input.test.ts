/**
 * Every public entry point, walked with a table of bad values: each call is refused with a
 * KafkaliteError of the right code whose message names the bad value, and nothing changes —
 * topics, offsets, positions and committed offsets are the same after as before, and the broker
 * goes on serving.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Broker,
  FileStorage,
  KafkaliteError,
  ManualClock,
  partitionForKey,
  type Consumer,
  type ErrorCode,
  type Message,
  type Producer,
  type ProducerOptions,
} from 'kafkalite';

interface Ctx {
  broker: Broker;
  producer: Producer;
  consumer: Consumer;
  member: Consumer;
}

interface Case {
  what: string;
  call: (ctx: Ctx) => unknown;
  code: ErrorCode;
  /** A piece of the message: the bad value or option, as the caller wrote it. */
  names: string | RegExp;
}

const bad = (m: unknown): Message => m as Message;
const any = <T>(v: unknown): T => v as T;

const cases: Case[] = [
  // Broker
  { what: 'Broker.open, defaultPartitions 0', call: () => Broker.open({ defaultPartitions: 0 }), code: 'INVALID_PARTITIONS', names: '(got 0)' },
  { what: 'Broker.open, unknown option', call: () => Broker.open(any({ brokers: ['x'] })), code: 'INVALID_ARGUMENT', names: '"brokers"' },
  { what: 'Broker.open, storage without log()', call: () => Broker.open(any({ storage: { open() {} } })), code: 'INVALID_ARGUMENT', names: 'Storage interface' },
  { what: 'createTopic, empty name', call: (c) => c.broker.createTopic(''), code: 'INVALID_TOPIC', names: '""' },
  { what: "createTopic, '..'", call: (c) => c.broker.createTopic('..'), code: 'INVALID_TOPIC', names: '".."' },
  { what: 'createTopic, a slash', call: (c) => c.broker.createTopic('a/b'), code: 'INVALID_TOPIC', names: '"a/b"' },
  { what: 'createTopic, 250 characters', call: (c) => c.broker.createTopic('x'.repeat(250)), code: 'INVALID_TOPIC', names: '250 characters' },
  { what: 'createTopic, a number', call: (c) => c.broker.createTopic(any(7)), code: 'INVALID_TOPIC', names: '7' },
  { what: 'createTopic, partitions -1', call: (c) => c.broker.createTopic('n', { partitions: -1 }), code: 'INVALID_PARTITIONS', names: '(got -1)' },
  { what: 'createTopic, partitions 1.5', call: (c) => c.broker.createTopic('n', { partitions: 1.5 }), code: 'INVALID_PARTITIONS', names: '(got 1.5)' },
  { what: 'createTopic, partitions "2"', call: (c) => c.broker.createTopic('n', { partitions: any('2') }), code: 'INVALID_PARTITIONS', names: '"2"' },
  { what: 'createTopic, retentionMs -2', call: (c) => c.broker.createTopic('n', { retentionMs: -2 }), code: 'INVALID_CONFIG', names: 'retentionMs' },
  { what: 'createTopic, segmentBytes 1', call: (c) => c.broker.createTopic('n', { segmentBytes: 1 }), code: 'INVALID_CONFIG', names: 'segmentBytes' },
  { what: 'createTopic, cleanupPolicy', call: (c) => c.broker.createTopic('n', { cleanupPolicy: any('keep') }), code: 'INVALID_CONFIG', names: '"keep"' },
  { what: 'createTopic, unknown config', call: (c) => c.broker.createTopic('n', any({ replicationFactor: 3 })), code: 'INVALID_CONFIG', names: '"replicationFactor"' },
  { what: 'createTopic, existing', call: (c) => c.broker.createTopic('t'), code: 'TOPIC_EXISTS', names: '"t"' },
  { what: 'topic, unknown', call: (c) => c.broker.topic('missing'), code: 'UNKNOWN_TOPIC', names: '"missing"' },
  { what: 'deleteTopic, unknown', call: (c) => c.broker.deleteTopic('missing'), code: 'UNKNOWN_TOPIC', names: '"missing"' },
  { what: 'group, empty id', call: (c) => c.broker.group(''), code: 'INVALID_ARGUMENT', names: '""' },
  // Topic and partition
  { what: 'addPartitions, same count', call: (c) => c.broker.topic('t').addPartitions(2), code: 'INVALID_PARTITIONS', names: '(got 2)' },
  { what: 'addPartitions, fewer', call: (c) => c.broker.topic('t').addPartitions(1), code: 'INVALID_PARTITIONS', names: '(got 1)' },
  { what: 'addPartitions, not a number', call: (c) => c.broker.topic('t').addPartitions(any('3')), code: 'INVALID_PARTITIONS', names: '"3"' },
  { what: 'partition, out of range', call: (c) => c.broker.topic('t').partition(2), code: 'UNKNOWN_PARTITION', names: 'no partition 2' },
  { what: 'partition.read, negative offset', call: (c) => c.broker.topic('t').partition(0).read(-1), code: 'INVALID_ARGUMENT', names: '(got -1)' },
  { what: 'partition.read, maxRecords 0', call: (c) => c.broker.topic('t').partition(0).read(0, { maxRecords: 0 }), code: 'INVALID_ARGUMENT', names: '(got 0)' },
  // Producer
  { what: 'producer, lingerMs -5', call: (c) => c.broker.producer({ lingerMs: -5 }), code: 'INVALID_ARGUMENT', names: '(got -5)' },
  { what: 'producer, unknown option', call: (c) => c.broker.producer(any<ProducerOptions>({ acks: -1 })), code: 'INVALID_ARGUMENT', names: '"acks"' },
  { what: 'send, no messages', call: (c) => c.producer.send({ topic: 't', messages: [] }), code: 'INVALID_ARGUMENT', names: 'non-empty array' },
  { what: 'send, not an object', call: (c) => c.producer.send(any('t')), code: 'INVALID_ARGUMENT', names: '"t"' },
  { what: 'send, bad topic name', call: (c) => c.producer.send({ topic: 'bad topic', messages: [{ value: 'v' }] }), code: 'INVALID_TOPIC', names: '"bad topic"' },
  { what: 'send, value missing', call: (c) => c.producer.send({ topic: 't', messages: [{ value: 'ok' }, bad({ key: 'k' })] }), code: 'INVALID_ARGUMENT', names: 'messages[1].value' },
  { what: 'send, value a number', call: (c) => c.producer.send({ topic: 't', messages: [bad({ value: 42 })] }), code: 'INVALID_ARGUMENT', names: '(got 42)' },
  { what: 'send, value an object', call: (c) => c.producer.send({ topic: 't', messages: [bad({ value: { a: 1 } })] }), code: 'INVALID_ARGUMENT', names: '{"a":1}' },
  { what: 'send, key a number', call: (c) => c.producer.send({ topic: 't', messages: [bad({ key: 9, value: 'v' })] }), code: 'INVALID_ARGUMENT', names: 'key' },
  { what: 'send, header value a number', call: (c) => c.producer.send({ topic: 't', messages: [bad({ value: 'v', headers: { h: 1 } })] }), code: 'INVALID_ARGUMENT', names: 'headers["h"]' },
  { what: 'send, timestamp 1.5', call: (c) => c.producer.send({ topic: 't', messages: [{ value: 'v', timestamp: 1.5 }] }), code: 'INVALID_ARGUMENT', names: '(got 1.5)' },
  { what: 'send, partition -1', call: (c) => c.producer.send({ topic: 't', messages: [{ value: 'v', partition: -1 }] }), code: 'INVALID_ARGUMENT', names: '(got -1)' },
  { what: 'send, partition 9', call: (c) => c.producer.send({ topic: 't', messages: [{ value: 'v', partition: 9 }] }), code: 'UNKNOWN_PARTITION', names: 'no partition 9' },
  { what: 'send, too large', call: (c) => c.producer.send({ topic: 'small', messages: [{ value: 'x'.repeat(600) }] }), code: 'MESSAGE_TOO_LARGE', names: 'maxMessageBytes (512)' },
  { what: 'sendBatch, one bad message', call: (c) => c.producer.sendBatch({ topicMessages: [{ topic: 't', messages: [{ value: 'ok' }] }, { topic: 't', messages: [bad({ value: 1 })] }] }), code: 'INVALID_ARGUMENT', names: '(got 1)' },
  { what: 'partitionForKey, numeric key', call: () => partitionForKey(any(5), 3), code: 'INVALID_ARGUMENT', names: '5' },
  { what: 'partitionForKey, 0 partitions', call: () => partitionForKey('k', 0), code: 'INVALID_ARGUMENT', names: '(got 0)' },
  // Consumer
  { what: 'consumer, autoOffsetReset', call: (c) => c.broker.consumer({ autoOffsetReset: any('first') }), code: 'INVALID_ARGUMENT', names: '"first"' },
  { what: 'consumer, sessionTimeoutMs 0', call: (c) => c.broker.consumer({ sessionTimeoutMs: 0 }), code: 'INVALID_ARGUMENT', names: 'sessionTimeoutMs' },
  { what: 'consumer, assignor', call: (c) => c.broker.consumer({ assignor: any('sticky') }), code: 'INVALID_ARGUMENT', names: '"sticky"' },
  { what: 'assign, not an array', call: (c) => c.consumer.assign(any({ topic: 't', partition: 0 })), code: 'INVALID_ARGUMENT', names: 'array' },
  { what: 'assign, unknown topic', call: (c) => c.consumer.assign([{ topic: 'nope', partition: 0 }]), code: 'UNKNOWN_TOPIC', names: '"nope"' },
  { what: 'assign, unknown partition', call: (c) => c.consumer.assign([{ topic: 't', partition: 5 }]), code: 'UNKNOWN_PARTITION', names: 'no partition 5' },
  { what: 'seek, not assigned', call: (c) => c.consumer.seek({ topic: 't', partition: 1, offset: 0 }), code: 'INVALID_ARGUMENT', names: 't-1' },
  { what: 'seek, offset 1.5', call: (c) => c.consumer.seek({ topic: 't', partition: 0, offset: 1.5 }), code: 'INVALID_ARGUMENT', names: '(got 1.5)' },
  { what: 'position, not assigned', call: (c) => c.consumer.position({ topic: 't', partition: 1 }), code: 'INVALID_ARGUMENT', names: 't-1' },
  { what: 'pause, not assigned', call: (c) => c.consumer.pause([{ topic: 't', partition: 1 }]), code: 'INVALID_ARGUMENT', names: 't-1' },
  { what: 'poll, timeoutMs -1', call: (c) => c.consumer.poll({ timeoutMs: -1 }), code: 'INVALID_ARGUMENT', names: '(got -1)' },
  { what: 'run, no handler', call: (c) => c.consumer.run({}), code: 'INVALID_ARGUMENT', names: 'eachMessage' },
  { what: 'subscribe without groupId', call: (c) => c.consumer.subscribe('t'), code: 'NOT_IN_GROUP', names: 'groupId' },
  { what: 'commit without groupId', call: (c) => c.consumer.commit(), code: 'NOT_IN_GROUP', names: 'groupId' },
  { what: 'committed without groupId', call: (c) => c.consumer.committed({ topic: 't', partition: 0 }), code: 'NOT_IN_GROUP', names: 'groupId' },
  { what: 'member assign after subscribe', call: (c) => c.member.assign([{ topic: 't', partition: 0 }]), code: 'INVALID_ARGUMENT', names: 'subscribed' },
  { what: 'member subscribe, bad topic', call: (c) => c.member.subscribe(['t', 'no good']), code: 'INVALID_TOPIC', names: '"no good"' },
  { what: 'member commit, negative offset', call: (c) => c.member.commit([{ topic: 't', partition: 0, offset: -3 }]), code: 'INVALID_ARGUMENT', names: '(got -3)' },
  { what: 'resetOffsets while the group has members', call: (c) => c.broker.group('g').resetOffsets({ topic: 't', to: 0 }), code: 'GROUP_NOT_EMPTY', names: '"g"' },
  { what: 'resetOffsets, bad target', call: (c) => c.broker.group('idle').resetOffsets({ topic: 't', to: any('start') }), code: 'INVALID_ARGUMENT', names: '"start"' },
  // Storage and clock
  { what: 'FileStorage, no dir', call: () => new FileStorage(any({})), code: 'INVALID_ARGUMENT', names: 'dir' },
  { what: 'FileStorage, fsync mode', call: () => new FileStorage({ dir: '/tmp/x', fsync: any('sometimes') }), code: 'INVALID_ARGUMENT', names: '"sometimes"' },
  { what: 'FileStorage, unknown option', call: () => new FileStorage(any({ dir: '/tmp/x', fsynk: 'always' })), code: 'INVALID_ARGUMENT', names: '"fsynk"' },
  { what: 'ManualClock.advance(-1)', call: () => new ManualClock().advance(-1), code: 'INVALID_ARGUMENT', names: '(got -1)' },
];

/** Everything a refused call must leave as it was. */
async function snapshot(ctx: Ctx): Promise<unknown> {
  const topics = ctx.broker.listTopics().map((name) => {
    const t = ctx.broker.topic(name);
    return { name, config: t.config, logs: t.partitions.map((p) => [p.logStartOffset, p.logEndOffset]) };
  });
  return {
    topics,
    position: ctx.consumer.position({ topic: 't', partition: 0 }),
    assignment: ctx.consumer.assignment(),
    member: ctx.member.assignment(),
    committed: await ctx.broker.group('g').committed({ topic: 't', partition: 0 }),
    groups: ctx.broker.listGroups(),
  };
}

describe('bad input: refused with a clear KafkaliteError, nothing changed', () => {
  let ctx: Ctx;
  beforeAll(async () => {
    const broker = await Broker.open();
    await broker.createTopic('t', { partitions: 2 });
    await broker.createTopic('small', { maxMessageBytes: 512 });
    const producer = broker.producer();
    await producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }] });
    const consumer = broker.consumer({ autoOffsetReset: 'earliest' });
    await consumer.assign([{ topic: 't', partition: 0 }]);
    const member = broker.consumer({ groupId: 'g', autoCommit: false });
    await member.subscribe('t');
    await member.commit([{ topic: 't', partition: 0, offset: 1 }]);
    ctx = { broker, producer, consumer, member };
  });
  afterAll(() => ctx.broker.close());

  it.each(cases.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    const before = await snapshot(ctx);
    let caught: unknown;
    try {
      await c.call(ctx);
    } catch (error) {
      caught = error;
    }
    expect(caught, 'refused with a KafkaliteError').toBeInstanceOf(KafkaliteError);
    const error = caught as KafkaliteError;
    expect(error.code).toBe(c.code);
    if (typeof c.names === 'string') expect(error.message).toContain(c.names);
    else expect(error.message).toMatch(c.names);
    await ctx.producer.flush();
    expect(await snapshot(ctx), 'nothing changed').toEqual(before);
    // …and the broker goes on serving.
    const [meta] = await ctx.producer.send({ topic: 'small', messages: [{ value: 'still serving' }] });
    expect(meta!.baseOffset).toBeGreaterThanOrEqual(0);
  });
});

describe('lifecycle misuse', () => {
  it('refuses every call after close with CLOSED, and closes twice without error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kafkalite-bad-'));
    try {
      const storage = new FileStorage({ dir });
      const broker = await Broker.open({ storage });
      await broker.createTopic('t');
      const producer = broker.producer();
      const consumer = broker.consumer({ groupId: 'g' });
      await expect(Broker.open({ storage: new FileStorage({ dir }) })).rejects.toMatchObject({ code: 'STORAGE_LOCKED' });
      await broker.close();
      await broker.close();
      await producer.close();
      await consumer.close();
      const calls: [string, () => unknown][] = [
        ['createTopic', () => broker.createTopic('u')],
        ['topic', () => broker.topic('t')],
        ['listTopics', () => broker.listTopics()],
        ['listGroups', () => broker.listGroups()],
        ['group', () => broker.group('g')],
        ['producer', () => broker.producer()],
        ['consumer', () => broker.consumer()],
        ['send', () => producer.send({ topic: 't', messages: [{ value: 'v' }] })],
        ['poll', () => consumer.poll()],
        ['subscribe', () => consumer.subscribe('t')],
        ['assign', () => consumer.assign([])],
        ['commit', () => consumer.commit()],
        ['caughtUp', () => consumer.caughtUp()],
      ];
      for (const [what, call] of calls) {
        await expect(Promise.resolve().then(call), what).rejects.toMatchObject({ code: 'CLOSED' });
      }
      // The folder is free again.
      const again = await Broker.open({ storage: new FileStorage({ dir }) });
      expect(again.listTopics()).toEqual(['t']);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
