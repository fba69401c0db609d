import { describe, expect, it } from 'vitest';
import { Broker, ManualClock, type ConsumerRecord } from 'kafkalite';
import { expectError, text } from '../helpers.js';

async function setup(partitions = 1, clock?: ManualClock) {
  const broker = await Broker.open(clock === undefined ? {} : { clock });
  const topic = await broker.createTopic('t', { partitions });
  const producer = broker.producer();
  const send = (values: string[], partition = 0) =>
    producer.send({ topic: 't', messages: values.map((value) => ({ value, partition })) });
  return { broker, topic, producer, send };
}

const values = (records: ConsumerRecord[]): (string | null)[] => records.map((r) => text(r.value));
const all = (n: number) => Array.from({ length: n }, (_, i) => ({ topic: 't', partition: i }));

describe('Consumer assign and positions', () => {
  it('starts at the end with the default autoOffsetReset (latest) and at the start with earliest', async () => {
    const { broker, send } = await setup();
    await send(['old']);
    const latest = broker.consumer();
    await latest.assign(all(1));
    expect(latest.position({ topic: 't', partition: 0 })).toBe(1);
    const earliest = broker.consumer({ autoOffsetReset: 'earliest' });
    await earliest.assign(all(1));
    expect(earliest.position({ topic: 't', partition: 0 })).toBe(0);
    await send(['new']);
    expect(values(await latest.poll())).toEqual(['new']);
    expect(values(await earliest.poll())).toEqual(['old', 'new']);
    expect(earliest.position({ topic: 't', partition: 0 })).toBe(2);
    await broker.close();
  });

  it('seeks, seeks to the beginning and to the end', async () => {
    const { broker, send } = await setup();
    await send(['a', 'b', 'c', 'd']);
    const c = broker.consumer();
    await c.assign(all(1));
    c.seek({ topic: 't', partition: 2 - 2, offset: 2 });
    expect(values(await c.poll())).toEqual(['c', 'd']);
    await c.seekToBeginning();
    expect(c.position({ topic: 't', partition: 0 })).toBe(0);
    expect(values(await c.poll())).toEqual(['a', 'b', 'c', 'd']);
    await c.seekToBeginning([{ topic: 't', partition: 0 }]);
    await c.seekToEnd();
    expect(c.position({ topic: 't', partition: 0 })).toBe(4);
    expect(await c.poll()).toEqual([]);
    await broker.close();
  });

  it('refuses what is not assigned or not valid, and changes nothing', async () => {
    const { broker } = await setup(2);
    const c = broker.consumer();
    await c.assign([{ topic: 't', partition: 0 }]);
    await expectError(() => c.seek({ topic: 't', partition: 1, offset: 0 }), 'INVALID_ARGUMENT', /t-1 is not assigned/);
    await expectError(() => c.seek({ topic: 't', partition: 0, offset: -3 }), 'INVALID_ARGUMENT', /-3/);
    await expectError(() => c.position({ topic: 't', partition: 1 }), 'INVALID_ARGUMENT');
    await expectError(() => c.pause([{ topic: 'nope', partition: 0 }]), 'INVALID_ARGUMENT');
    await expectError(() => c.assign([{ topic: 'nope', partition: 0 }]), 'UNKNOWN_TOPIC', /"nope"/);
    await expectError(() => c.assign([{ topic: 't', partition: 7 }]), 'UNKNOWN_PARTITION', /no partition 7/);
    await expectError(() => c.assign([{ topic: 't', partition: -1 }]), 'INVALID_ARGUMENT');
    await expectError(() => c.assign('t' as never), 'INVALID_ARGUMENT');
    expect(c.assignment()).toEqual([{ topic: 't', partition: 0 }]);
    await expectError(() => c.poll({ timeoutMs: -1 }), 'INVALID_ARGUMENT', /timeoutMs.*-1/);
    await expectError(() => broker.consumer({ maxPollRecords: 0 }), 'INVALID_ARGUMENT', /maxPollRecords.*0/);
    await expectError(() => broker.consumer({ autoOffsetReset: 'oldest' as 'latest' }), 'INVALID_ARGUMENT', /"oldest"/);
    await expectError(() => broker.consumer({ groupId: '' }), 'INVALID_ARGUMENT', /groupId/);
    await expectError(() => broker.consumer({ colour: 1 } as never), 'INVALID_ARGUMENT', /unknown consumer option "colour"/);
    await broker.close();
  });

  it('needs a groupId for subscribe and commit', async () => {
    const { broker } = await setup();
    const c = broker.consumer();
    await expectError(() => c.subscribe('t'), 'NOT_IN_GROUP', /subscribe needs a consumer created with a groupId/);
    await expectError(() => c.commit(), 'NOT_IN_GROUP');
    await expectError(() => c.committed({ topic: 't', partition: 0 }), 'NOT_IN_GROUP');
    await broker.close();
  });

  it('keeps positions of partitions that stay assigned', async () => {
    const { broker, send } = await setup(2);
    await send(['a', 'b']);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign([{ topic: 't', partition: 0 }]);
    await c.poll();
    await c.assign(all(2));
    expect(c.position({ topic: 't', partition: 0 })).toBe(2);
    expect(c.position({ topic: 't', partition: 1 })).toBe(0);
    await broker.close();
  });
});

describe('Consumer autoOffsetResetByTopic', () => {
  it('starts, and resets out-of-range positions, per topic', async () => {
    const broker = await Broker.open();
    await broker.createTopic('old', { partitions: 1 });
    await broker.createTopic('new', { partitions: 1 });
    const producer = broker.producer();
    for (const topic of ['old', 'new']) await producer.send({ topic, messages: [{ value: `${topic}-0` }, { value: `${topic}-1` }] });
    const c = broker.consumer({ groupId: 'g', autoOffsetReset: 'latest', autoOffsetResetByTopic: { old: 'earliest' } });
    await c.subscribe(['old', 'new']);
    expect(c.position({ topic: 'old', partition: 0 })).toBe(0);
    expect(c.position({ topic: 'new', partition: 0 })).toBe(2);
    await producer.send({ topic: 'old', messages: [{ value: 'old-2' }] });
    await broker.topic('old').partition(0).deleteRecordsBefore(3);
    expect(values(await c.poll())).toEqual([]); // old-0..2 are gone: the reset found the start (3)
    expect(c.position({ topic: 'old', partition: 0 })).toBe(3);
    await broker.close();
  });

  it("with 'none' for one topic, refuses only that topic's partitions", async () => {
    const broker = await Broker.open();
    await broker.createTopic('strict', { partitions: 1 });
    const c = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoOffsetResetByTopic: { strict: 'none' } });
    await expectError(() => c.assign([{ topic: 'strict', partition: 0 }]), 'OFFSET_OUT_OF_RANGE', /strict-0/);
    await broker.close();
  });

  it('refuses a bad policy, naming it', async () => {
    const broker = await Broker.open();
    await expectError(() => broker.consumer({ autoOffsetResetByTopic: { t: 'first' as never } }), 'INVALID_ARGUMENT', /autoOffsetResetByTopic\["t"\] .*"first"/);
    await expectError(() => broker.consumer({ autoOffsetResetByTopic: ['t'] as never }), 'INVALID_ARGUMENT', /autoOffsetResetByTopic must be an object/);
    await broker.close();
  });
});

describe('Consumer poll', () => {
  it('returns at most maxPollRecords and continues where it stopped', async () => {
    const { broker, send } = await setup();
    await send(Array.from({ length: 25 }, (_, i) => `${i}`));
    const c = broker.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 10 });
    await c.assign(all(1));
    expect((await c.poll()).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await c.poll())[0]!.offset).toBe(10);
    expect((await c.poll()).length).toBe(5);
    await broker.close();
  });

  it('waits up to timeoutMs on the clock and returns [] if nothing came', async () => {
    const clock = new ManualClock();
    const { broker } = await setup(1, clock);
    const c = broker.consumer();
    await c.assign(all(1));
    let result: ConsumerRecord[] | undefined;
    const polling = c.poll({ timeoutMs: 500 }).then((r) => (result = r));
    await clock.advance(499);
    expect(result).toBeUndefined();
    await clock.advance(1);
    await polling;
    expect(result).toEqual([]);
    await broker.close();
  });

  it('wakes at once when a record is appended while it waits', async () => {
    const clock = new ManualClock();
    const { broker, send } = await setup(3, clock);
    const c = broker.consumer();
    await c.assign(all(3));
    const polling = c.poll({ timeoutMs: 60_000 });
    await new Promise((r) => setImmediate(r));
    await send(['hello'], 2);
    const records = await polling;
    expect(records.map((r) => [r.partition, text(r.value)])).toEqual([[2, 'hello']]);
    expect(clock.now()).toBe(0);
    await broker.close();
  });

  it('refuses two polls at once', async () => {
    const clock = new ManualClock();
    const { broker } = await setup(1, clock);
    const c = broker.consumer();
    await c.assign(all(1));
    const first = c.poll({ timeoutMs: 100 });
    await expectError(() => c.poll(), 'INVALID_ARGUMENT', /already in poll mode/);
    await clock.advance(100);
    await first;
    await broker.close();
  });

  it('spreads a poll over partitions rather than draining one first', async () => {
    const { broker, send } = await setup(2);
    await send(Array.from({ length: 100 }, () => 'a'), 0);
    await send(Array.from({ length: 100 }, () => 'b'), 1);
    const c = broker.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 50 });
    await c.assign(all(2));
    const first = await c.poll();
    const second = await c.poll();
    expect(new Set([first[0]!.partition, second[0]!.partition]).size).toBe(2);
    await broker.close();
  });

  it('does not deliver from paused partitions until resumed', async () => {
    const { broker, send } = await setup(2);
    await send(['p0'], 0);
    await send(['p1'], 1);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(2));
    c.pause([{ topic: 't', partition: 0 }]);
    expect(c.paused()).toEqual([{ topic: 't', partition: 0 }]);
    expect(values(await c.poll())).toEqual(['p1']);
    expect(await c.poll()).toEqual([]);
    c.resume([{ topic: 't', partition: 0 }]);
    expect(values(await c.poll())).toEqual(['p0']);
    await broker.close();
  });

  it('follows autoOffsetReset when retention drops records below its position', async () => {
    const broker = await Broker.open();
    await broker.createTopic('r', { retentionBytes: 0 });
    const producer = broker.producer();
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'r', messages: [{ value: `${i}` }] });
    const p = broker.topic('r').partition(0);
    expect(p.logStartOffset).toBe(4);
    const earliest = broker.consumer({ autoOffsetReset: 'earliest' });
    await earliest.assign([{ topic: 'r', partition: 0 }]);
    earliest.seek({ topic: 'r', partition: 0, offset: 1 });
    // The reset happens inside the poll, which fetches again from the new position.
    expect(values(await earliest.poll())).toEqual(['4']);
    const none = broker.consumer({ autoOffsetReset: 'none' });
    await none.assign([{ topic: 'r', partition: 0 }]);
    none.seek({ topic: 'r', partition: 0, offset: 1 });
    const err = await expectError(() => none.poll(), 'OFFSET_OUT_OF_RANGE', /offset 1 is out of range for r-0 \(log holds 4 to 5\)/);
    expect([err.topic, err.partition, err.offset]).toEqual(['r', 0, 1]);
    await broker.close();
  });
});

describe('Consumer run', () => {
  it('hands every record to eachMessage in offset order, per partition', async () => {
    const { broker, send } = await setup(2);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(2));
    const seen: string[] = [];
    await c.run({ eachMessage: ({ topic, partition, message }) => void seen.push(`${topic}/${partition}/${message.offset}/${text(message.value)}`) });
    await send(['a', 'b'], 0);
    await send(['c'], 1);
    await c.caughtUp();
    expect(seen.filter((s) => s.startsWith('t/0'))).toEqual(['t/0/0/a', 't/0/1/b']);
    expect(seen.filter((s) => s.startsWith('t/1'))).toEqual(['t/1/0/c']);
    await broker.close();
  });

  it('awaits an async handler before the next record', async () => {
    const { broker, send } = await setup();
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(1));
    let active = 0;
    let maxActive = 0;
    await c.run({
      eachMessage: async () => {
        maxActive = Math.max(maxActive, ++active);
        await new Promise((r) => setImmediate(r));
        active--;
      },
    });
    await send(['1', '2', '3', '4']);
    await c.caughtUp();
    expect(maxActive).toBe(1);
    await broker.close();
  });

  it('delivers a record again after its handler threw, and emits the error', async () => {
    const clock = new ManualClock();
    const { broker, send } = await setup(1, clock);
    const c = broker.consumer({ autoOffsetReset: 'earliest', retryBackoffMs: 100 });
    await c.assign(all(1));
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    const seen: number[] = [];
    let failures = 2;
    await c.run({
      eachMessage: ({ message }) => {
        seen.push(message.offset);
        if (message.offset === 1 && failures-- > 0) throw new Error('boom');
      },
    });
    await send(['a', 'b', 'c']);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([0, 1]);
    expect(c.position({ topic: 't', partition: 0 })).toBe(1);
    await clock.advance(100);
    await clock.advance(100);
    await c.caughtUp();
    expect(seen).toEqual([0, 1, 1, 1, 2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom', 'boom']);
    await broker.close();
  });

  it('hands one partition at a time to eachBatch and retries a batch that threw', async () => {
    const clock = new ManualClock();
    const { broker, send } = await setup(2, clock);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(2));
    const batches: string[] = [];
    let fail = true;
    await c.run({
      eachBatch: ({ batch }) => {
        batches.push(`${batch.partition}:${batch.messages.map((m) => m.offset).join(',')}`);
        if (batch.partition === 1 && fail) {
          fail = false;
          throw new Error('once');
        }
      },
    });
    await send(['a', 'b'], 0);
    await send(['c'], 1);
    await clock.advance(100);
    await c.caughtUp();
    expect(batches.filter((b) => b.startsWith('0'))).toEqual(['0:0,1']);
    expect(batches.filter((b) => b.startsWith('1'))).toEqual(['1:0', '1:0']);
    await broker.close();
  });

  it('gives eachBatch, and highWatermark(), the high watermark of the fetch', async () => {
    const { broker, send } = await setup(1);
    await send(['a', 'b', 'c']);
    const c = broker.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 2 });
    await c.assign(all(1));
    expect(c.highWatermark({ topic: 't', partition: 0 })).toBeUndefined(); // no fetch yet
    const batches: { offsets: number[]; highWatermark: number }[] = [];
    await c.run({ eachBatch: ({ batch }) => void batches.push({ offsets: batch.messages.map((m) => m.offset), highWatermark: batch.highWatermark }) });
    await c.caughtUp();
    // maxPollRecords cut the first fetch short: its batch still says how far the log goes.
    expect(batches).toEqual([
      { offsets: [0, 1], highWatermark: 3 },
      { offsets: [2], highWatermark: 3 },
    ]);
    expect(c.highWatermark({ topic: 't', partition: 0 })).toBe(3);
    expect(() => c.highWatermark({ topic: 't', partition: 9 })).toThrow(/not assigned/);
    await broker.close();
  });

  it('lets a handler seek and pause', async () => {
    const { broker, send } = await setup();
    await send(['a', 'b', 'c', 'd']);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(1));
    const seen: string[] = [];
    let jumped = false;
    await c.run({
      eachMessage: ({ message }) => {
        seen.push(text(message.value)!);
        if (message.offset === 0 && !jumped) {
          jumped = true;
          c.seek({ topic: 't', partition: 0, offset: 3 });
        }
      },
    });
    await c.caughtUp();
    expect(seen).toEqual(['a', 'd']);
    await broker.close();
  });

  it('takes exactly one handler', async () => {
    const { broker } = await setup();
    const c = broker.consumer();
    await expectError(() => c.run({}), 'INVALID_ARGUMENT', /exactly one/);
    await expectError(() => c.run({ eachMessage: () => {}, eachBatch: () => {} }), 'INVALID_ARGUMENT', /exactly one/);
    await c.run({ eachMessage: () => {} });
    await expectError(() => c.poll(), 'INVALID_ARGUMENT', /run mode/);
    await broker.close();
  });
});

describe('Consumer caughtUp, for await and close', () => {
  it('caughtUp waits for the log end as it stood at the call', async () => {
    const { broker, send } = await setup(2);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(2));
    await send(['a'], 0);
    await send(['b'], 1);
    let done = false;
    const waiting = c.caughtUp().then(() => (done = true));
    await send(['later'], 0);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect((await c.poll()).length).toBe(3);
    await waiting;
    expect(done).toBe(true);
    await broker.close();
  });

  it('caughtUp ignores paused partitions and resolves at once with nothing assigned', async () => {
    const { broker, send } = await setup(2);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.caughtUp();
    await c.assign(all(2));
    await send(['a'], 0);
    c.pause([{ topic: 't', partition: 0 }]);
    await c.caughtUp();
    await broker.close();
  });

  it('iterates with for await, delivering each record as it is yielded', async () => {
    const { broker, send } = await setup();
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(1));
    await send(['a', 'b', 'c']);
    const got: string[] = [];
    for await (const record of c) {
      got.push(text(record.value)!);
      if (record.offset === 1) break;
    }
    expect(got).toEqual(['a', 'b']);
    expect(c.position({ topic: 't', partition: 0 })).toBe(2);
    expect(values(await c.poll())).toEqual(['c']);
    await broker.close();
  });

  it('ends a for await loop on close', async () => {
    const { broker, send } = await setup();
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(1));
    await send(['a']);
    const got: string[] = [];
    const loop = (async () => {
      for await (const record of c) got.push(text(record.value)!);
    })();
    await c.caughtUp();
    await c.close();
    await loop;
    expect(got).toEqual(['a']);
    await broker.close();
  });

  it('close lets the running handler finish, rejects caughtUp waiters and is idempotent', async () => {
    const { broker, send } = await setup();
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(1));
    let release!: () => void;
    let finished = false;
    await c.run({
      eachMessage: async () => {
        await new Promise<void>((r) => (release = r));
        finished = true;
      },
    });
    await send(['a', 'b']);
    const waiter = c.caughtUp();
    await new Promise((r) => setImmediate(r));
    const closing = c.close();
    release();
    await closing;
    expect(finished).toBe(true);
    await expectError(() => waiter, 'CLOSED');
    await c.close();
    await expectError(() => c.poll(), 'CLOSED', /consumer is closed/);
    await expectError(() => c.seek({ topic: 't', partition: 0, offset: 0 }), 'CLOSED');
    await broker.close();
  });

  it('does not lose a close that comes while poll is still fixing positions (regression)', async () => {
    const clock = new ManualClock();
    const { broker } = await setup(1, clock);
    const c = broker.consumer();
    await c.assign(all(1));
    void c.seekToEnd(); // the next poll must fix the position first
    const polling = c.poll({ timeoutMs: 1_000_000 });
    await c.close(); // the clock never moves: a lost wake-up would hang this poll
    expect(await polling).toEqual([]);
    await broker.close();
  });

  it('closes a waiting poll and run loop with the broker, promptly', async () => {
    const clock = new ManualClock();
    const { broker } = await setup(1, clock);
    const polling = broker.consumer();
    await polling.assign(all(1));
    const p = polling.poll({ timeoutMs: 1_000_000 });
    const running = broker.consumer();
    await running.assign(all(1));
    await running.run({ eachMessage: () => {} });
    await new Promise((r) => setImmediate(r));
    await broker.close();
    expect(await p).toEqual([]);
  });
});

describe('Consumer edge cases from a hostile review', () => {
  it('a deleted topic takes the positions with it: created again, its partitions start over by autoOffsetReset, not at the old offsets', async () => {
    const { broker, send } = await setup();
    await send(['a', 'b', 'c', 'd', 'e']);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(1));
    expect(values(await c.poll())).toEqual(['a', 'b', 'c', 'd', 'e']);
    await broker.deleteTopic('t');
    expect(await c.poll()).toEqual([]); // nothing to read, nothing thrown
    expect(() => c.position({ topic: 't', partition: 0 })).toThrow(/not fixed yet/);
    await broker.createTopic('t');
    await broker.producer().send({ topic: 't', messages: ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((value) => ({ value })) });
    // The old position (5) lies inside the new log: kept, it would skip n0..n4.
    expect(values(await c.poll({ timeoutMs: 1000 }))).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
    await c.close();
    await broker.close();
  });

  it('a partition the re-created topic does not have waits quietly until the topic grows to it', async () => {
    const { broker, send } = await setup(2);
    await send(['a'], 1);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign(all(2));
    expect(values(await c.poll())).toEqual(['a']);
    await broker.deleteTopic('t');
    await broker.createTopic('t', { partitions: 1 });
    expect(await c.poll({ timeoutMs: 50 })).toEqual([]); // t-1 does not exist (yet): no error, nothing
    await broker.topic('t').addPartitions(2);
    await broker.producer().send({ topic: 't', messages: [{ value: 'b', partition: 1 }] });
    expect(values(await c.poll({ timeoutMs: 1000 }))).toEqual(['b']);
    await c.close();
    await broker.close();
  });

  it('close() called inside a run handler resolves (it does not wait for the handler that waits for it); the record in hand is not committed', async () => {
    const { broker, send } = await setup();
    await send(['a', 'b', 'c']);
    const c = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest' });
    await c.subscribe('t');
    const seen: string[] = [];
    let closing: Promise<void> | undefined;
    await c.run({
      eachMessage: async ({ message }) => {
        seen.push(text(message.value)!);
        if (seen.length === 2) {
          closing = c.close();
          await closing;
        }
      },
    });
    await expect.poll(() => closing !== undefined).toBe(true);
    await closing;
    expect(seen).toEqual(['a', 'b']);
    expect(await broker.group('g').committed({ topic: 't', partition: 0 })).toBe(1);
    await broker.close();
  });

  it('after close, reads of its state are CLOSED; calls with a non-array change nothing and name the value', async () => {
    const { broker } = await setup(2);
    const c = broker.consumer();
    await c.assign(all(2));
    await expectError(() => c.pause(undefined as never), 'INVALID_ARGUMENT', /pause takes an array .*undefined/);
    await expectError(() => c.resume('t' as never), 'INVALID_ARGUMENT', /resume takes an array .*"t"/);
    await expectError(() => c.seekToBeginning(5 as never), 'INVALID_ARGUMENT', /seekToBeginning takes an array .*5/);
    await expectError(() => c.poll(null as never), 'INVALID_ARGUMENT', /poll takes .*null/);
    // One partition not assigned: nothing is paused.
    await expectError(() => c.pause([{ topic: 't', partition: 0 }, { topic: 'u', partition: 0 }]), 'INVALID_ARGUMENT', /u-0 is not assigned/);
    expect(c.paused()).toEqual([]);
    await c.close();
    for (const read of [() => c.assignment(), () => c.paused(), () => c.position({ topic: 't', partition: 0 }), () => c.highWatermark({ topic: 't', partition: 0 })]) {
      await expectError(read, 'CLOSED');
    }
    await broker.close();
  });
});
