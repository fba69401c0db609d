/**
 * Producer guarantees when calls are not awaited one by one, as applications and frameworks
 * issue them: offsets in call order, bytes copied at the call, one call's records consecutive,
 * and a refused call changing nothing (not even auto-creating its topic).
 */
import { describe, expect, it } from 'vitest';
import { Broker, ManualClock } from 'kafkalite';
import { expectError, text } from '../helpers.js';

const values = async (broker: Broker, topic: string, partition = 0): Promise<string[]> =>
  (await broker.topic(topic).partition(partition).read(0, { maxRecords: 100_000 })).map((r) => text(r.value)!);

describe('Producer: offsets follow call order', () => {
  it('on the first sends to a topic, a send issued 0 to 12 microtasks later lands after', async () => {
    for (const existing of [false, true]) {
      for (let gap = 0; gap <= 12; gap++) {
        const broker = await Broker.open();
        if (existing) await broker.createTopic('fresh');
        const p = broker.producer();
        const s1 = p.send({ topic: 'fresh', messages: [{ value: 'first' }] });
        for (let i = 0; i < gap; i++) await null;
        const s2 = p.send({ topic: 'fresh', messages: [{ value: 'second' }] });
        await Promise.all([s1, s2]);
        expect(await values(broker, 'fresh'), `existing ${existing}, gap ${gap}`).toEqual(['first', 'second']);
        await broker.close();
      }
    }
  });

  it('on the first sends to an existing topic, across microtasks and macrotasks', async () => {
    const broker = await Broker.open();
    await broker.createTopic('t');
    const p = broker.producer();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      sends.push(p.send({ topic: 't', messages: [{ value: `${i}` }] }));
      if (i % 3 === 0) await null;
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(sends);
    expect(await values(broker, 't')).toEqual(Array.from({ length: 30 }, (_, i) => `${i}`));
    await broker.close();
  });

  it('when a producer moves on to a new topic while an older one has batches open', async () => {
    const broker = await Broker.open({ defaultPartitions: 1 });
    const p = broker.producer({ lingerMs: 0 });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      sends.push(p.send({ topic: i % 2 === 0 ? 'a' : 'b', messages: [{ value: `${i}` }] }));
      await null;
    }
    await Promise.all(sends);
    expect(await values(broker, 'a')).toEqual(['0', '2', '4', '6', '8']);
    expect(await values(broker, 'b')).toEqual(['1', '3', '5', '7', '9']);
    await broker.close();
  });
});

describe('Producer: bytes are copied at the call', () => {
  it('a scratch buffer reused across un-awaited first sends to a topic stores each content', async () => {
    const broker = await Broker.open();
    const p = broker.producer();
    const scratch = Buffer.alloc(3);
    const sends: Promise<unknown>[] = [];
    for (const word of ['one', 'two', 'six']) {
      scratch.write(word);
      sends.push(p.send({ topic: 'scratch', messages: [{ key: scratch, value: scratch, headers: { h: scratch } }] }));
    }
    await Promise.all(sends);
    const records = await broker.topic('scratch').partition(0).read(0);
    expect(records.map((r) => [text(r.key), text(r.value), text(r.headers.h as Buffer)])).toEqual([
      ['one', 'one', 'one'],
      ['two', 'two', 'two'],
      ['six', 'six', 'six'],
    ]);
    await broker.close();
  });

  it('also on a producer that already sent elsewhere, and with sendBatch', async () => {
    const broker = await Broker.open();
    const p = broker.producer();
    await p.send({ topic: 'elsewhere', messages: [{ value: 'x' }] });
    const scratch = Buffer.from('aaa');
    const s1 = p.send({ topic: 'new1', messages: [{ value: scratch }] });
    const s2 = p.sendBatch({ topicMessages: [{ topic: 'new2', messages: [{ value: scratch }] }] });
    scratch.write('zzz');
    await Promise.all([s1, s2]);
    expect(await values(broker, 'new1')).toEqual(['aaa']);
    expect(await values(broker, 'new2')).toEqual(['aaa']);
    await broker.close();
  });
});

describe('Producer: one call, consecutive offsets', () => {
  it('a call spanning several batches is not interleaved with another producer\'s records (lingerMs > 0)', async () => {
    const clock = new ManualClock();
    const broker = await Broker.open({ clock });
    await broker.createTopic('t');
    const a = broker.producer({ lingerMs: 5, batchSize: 1024 });
    const b = broker.producer();
    const warm = a.send({ topic: 't', messages: [{ value: 'warm' }] });
    await clock.advance(5);
    await warm;
    const bigA = a.send({ topic: 't', messages: Array.from({ length: 12 }, (_, i) => ({ value: `A${i}`.padEnd(200, '.') })) });
    const bigB = b.send({ topic: 't', messages: [{ value: 'B' }] });
    await clock.advance(5);
    const [[ma], [mb]] = await Promise.all([bigA, bigB]);
    const stored = (await values(broker, 't')).map((v) => v.replace(/\.+$/, ''));
    const runA = stored.slice(ma!.baseOffset, ma!.baseOffset + 12);
    expect(runA).toEqual(Array.from({ length: 12 }, (_, i) => `A${i}`));
    expect(stored[mb!.baseOffset]).toBe('B');
    await broker.close();
  });

  it('two producers each sending 300 x 100 B concurrently with lingerMs 5 do not interleave within a call', async () => {
    const clock = new ManualClock();
    const broker = await Broker.open({ clock });
    await broker.createTopic('t');
    const producers = ['A', 'B'].map((name) => ({ name, p: broker.producer({ lingerMs: 5 }) }));
    const sends = producers.map(({ name, p }) =>
      p.send({ topic: 't', messages: Array.from({ length: 300 }, (_, i) => ({ value: `${name}${i}`.padEnd(100, '.') })) }),
    );
    await clock.advance(5);
    const metas = await Promise.all(sends);
    const stored = (await values(broker, 't')).map((v) => v.replace(/\.+$/, ''));
    producers.forEach(({ name }, k) => {
      const base = metas[k]![0]!.baseOffset;
      expect(stored.slice(base, base + 300)).toEqual(Array.from({ length: 300 }, (_, i) => `${name}${i}`));
    });
    await broker.close();
  });

  it('sticky spreading: a keyless call that wraps around the partitions stays consecutive per partition', async () => {
    const clock = new ManualClock();
    const broker = await Broker.open({ clock });
    await broker.createTopic('t', { partitions: 2 });
    const a = broker.producer({ lingerMs: 5, batchSize: 512 });
    const b = broker.producer({ partitioner: 'round-robin' });
    const sa = a.send({ topic: 't', messages: Array.from({ length: 40 }, (_, i) => ({ value: `A${i}`.padEnd(100, '.') })) });
    const sb = b.send({ topic: 't', messages: [{ value: 'B0' }, { value: 'B1' }] });
    await clock.advance(5);
    const [metaA] = await Promise.all([sa, sb]);
    for (const m of metaA) {
      const stored = (await values(broker, 't', m.partition)).map((v) => v.replace(/\.+$/, ''));
      const mine = stored.filter((v) => v.startsWith('A'));
      expect(stored.slice(m.baseOffset, m.baseOffset + mine.length)).toEqual(mine);
    }
    await broker.close();
  });
});

describe('Producer: a refused send changes nothing', () => {
  it('does not auto-create its topic when a message names a partition it would not have', async () => {
    const broker = await Broker.open();
    const p = broker.producer();
    await expectError(() => p.send({ topic: 'ghost', messages: [{ value: 'x', partition: 3 }] }), 'UNKNOWN_PARTITION', /"ghost"/);
    expect(broker.listTopics()).toEqual([]);
    await broker.close();
  });

  it('does not auto-create its topic for a message over maxMessageBytes', async () => {
    const broker = await Broker.open();
    const p = broker.producer();
    await expectError(() => p.send({ topic: 'ghost', messages: [{ value: Buffer.alloc(2 * 1024 * 1024) }] }), 'MESSAGE_TOO_LARGE');
    expect(broker.listTopics()).toEqual([]);
    await broker.close();
  });

  it('a refused send between accepted ones to a new topic leaves the others in order', async () => {
    const broker = await Broker.open();
    const p = broker.producer();
    const s1 = p.send({ topic: 'mixed', messages: [{ value: '1' }] });
    const bad = p.send({ topic: 'mixed', messages: [{ value: 'x', partition: 9 }] });
    const s2 = p.send({ topic: 'mixed', messages: [{ value: '2' }] });
    await expectError(() => bad, 'UNKNOWN_PARTITION');
    await Promise.all([s1, s2]);
    expect(await values(broker, 'mixed')).toEqual(['1', '2']);
    await broker.close();
  });

  it('found by the concurrent model: a call to a new topic and one that grows meanwhile neither fails nor leaves a created topic behind', async () => {
    const broker = await Broker.open({ defaultPartitions: 2 });
    await broker.createTopic('m', { partitions: 2 });
    const p = broker.producer();
    const sent = p.sendBatch({ topicMessages: [{ topic: 'm', messages: [{ value: 'a' }] }, { topic: 'auto', messages: [{ value: 'b' }] }] });
    await null;
    const grown = broker.topic('m').addPartitions(3);
    const [meta] = await Promise.all([sent, grown]);
    expect(meta.map((m) => m.topic).sort()).toEqual(['auto', 'm']);
    expect(broker.listTopics()).toEqual(['auto', 'm']);
    await broker.close();
  });

  it('a call refused by a custom partitioner creates nothing (found by a hostile review)', async () => {
    const broker = await Broker.open({ defaultPartitions: 3 });
    const bad = broker.producer({ partitioner: ({ message }) => (message.value === 'bad' ? 7 : 0) });
    await expectError(() => bad.send({ topic: 'fresh', messages: [{ value: 'ok' }, { value: 'bad' }] }), 'INVALID_ARGUMENT', /returned 7/);
    const throwing = broker.producer({
      partitioner: () => {
        throw new Error('no');
      },
    });
    await expect(throwing.send({ topic: 'fresh', messages: [{ value: 'x' }] })).rejects.toThrow('no');
    expect(broker.listTopics()).toEqual([]);
    await broker.close();
  });

  it('says that a topic does not exist yet when a partition is refused against what would be created', async () => {
    const broker = await Broker.open({ defaultPartitions: 2 });
    await expectError(() => broker.producer().send({ topic: 'race', messages: [{ value: 'a', partition: 3 }] }), 'UNKNOWN_PARTITION', /"race" does not exist, and created for this call it would have 2 partitions: no partition 3/);
    await broker.close();
  });
});
