/**
 * Consumer guarantees when calls are not awaited one by one: `assign` takes effect at the call,
 * one consumer is one group member however its `subscribe` calls overlap, and failures nobody
 * awaits are logged.
 */
import { describe, expect, it } from 'vitest';
import { Broker, ManualClock, type Logger } from 'kafkalite';
import { expectError, text } from '../helpers.js';

async function withRecords(n: number, partitions = 1, options: Parameters<typeof Broker.open>[0] = {}) {
  const broker = await Broker.open(options);
  await broker.createTopic('t', { partitions });
  const p = broker.producer();
  for (let part = 0; part < partitions; part++) {
    await p.send({ topic: 't', messages: Array.from({ length: n }, (_, i) => ({ value: `${part}:${i}`, partition: part })) });
  }
  return broker;
}

const tps = (n: number) => Array.from({ length: n }, (_, partition) => ({ topic: 't', partition }));

describe('assign takes effect at the call', () => {
  it('assignment() shows it at once, and seek may follow without awaiting', async () => {
    const broker = await withRecords(10);
    const c = broker.consumer();
    const assigned = c.assign(tps(1));
    expect(c.assignment()).toEqual(tps(1));
    c.seek({ topic: 't', partition: 0, offset: 4 });
    await assigned;
    expect(c.position({ topic: 't', partition: 0 })).toBe(4);
    expect((await c.poll()).map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    await broker.close();
  });

  it('seekToBeginning() with no arguments right after an un-awaited assign reads from the start', async () => {
    const broker = await withRecords(5, 2);
    const c = broker.consumer(); // autoOffsetReset 'latest'
    void c.assign(tps(2));
    await c.seekToBeginning();
    expect(tps(2).map((tp) => c.position(tp))).toEqual([0, 0]);
    expect((await c.poll()).length).toBe(10);
    await broker.close();
  });

  it('seekToEnd and pause right after an un-awaited assign', async () => {
    const broker = await withRecords(5, 2);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    const assigned = c.assign(tps(2));
    c.pause([{ topic: 't', partition: 1 }]);
    const atEnd = c.seekToEnd([{ topic: 't', partition: 0 }]);
    await Promise.all([assigned, atEnd]);
    expect(c.paused()).toEqual([{ topic: 't', partition: 1 }]);
    expect(c.position({ topic: 't', partition: 0 })).toBe(5);
    expect(await c.poll()).toEqual([]);
    c.resume([{ topic: 't', partition: 1 }]);
    expect((await c.poll()).map((r) => text(r.value))).toEqual(['1:0', '1:1', '1:2', '1:3', '1:4']);
    await broker.close();
  });

  it('a refused assign (unknown partition) puts the previous assignment back', async () => {
    const broker = await withRecords(3, 2);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign([{ topic: 't', partition: 0 }]);
    const refused = c.assign([{ topic: 't', partition: 1 }, { topic: 't', partition: 9 }]);
    expect(c.assignment()).toEqual([{ topic: 't', partition: 1 }, { topic: 't', partition: 9 }]);
    await expectError(() => refused, 'UNKNOWN_PARTITION', /no partition 9/);
    expect(c.assignment()).toEqual([{ topic: 't', partition: 0 }]);
    expect(c.position({ topic: 't', partition: 0 })).toBe(0);
    expect((await c.poll()).map((r) => text(r.value))).toEqual(['0:0', '0:1', '0:2']);
    await broker.close();
  });

  it("a refused assign ('none', nothing committed) puts the previous assignment back too", async () => {
    const broker = await withRecords(3, 2);
    const c = broker.consumer({ groupId: 'g', autoOffsetReset: 'none' });
    await c.commit([{ topic: 't', partition: 0, offset: 1 }]);
    await c.assign([{ topic: 't', partition: 0 }]);
    await expectError(() => c.assign(tps(2)), 'OFFSET_OUT_OF_RANGE', /no committed offset for t-1/);
    expect(c.assignment()).toEqual([{ topic: 't', partition: 0 }]);
    expect((await c.poll()).map((r) => r.offset)).toEqual([1, 2]);
    await broker.close();
  });

  it('a poll running while assign changes the partitions delivers from the new ones', async () => {
    const broker = await withRecords(2, 2);
    const c = broker.consumer({ autoOffsetReset: 'earliest' });
    await c.assign([{ topic: 't', partition: 0 }]);
    expect((await c.poll()).length).toBe(2);
    const waiting = c.poll({ timeoutMs: 5000 });
    void c.assign([{ topic: 't', partition: 1 }]);
    expect((await waiting).map((r) => text(r.value))).toEqual(['1:0', '1:1']);
    await broker.close();
  });
});

describe('one consumer is one group member', () => {
  it('two subscribe calls without awaiting the first join once; the group becomes Stable', async () => {
    const clock = new ManualClock();
    const broker = await withRecords(3, 2, { clock });
    const c = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest' });
    const first = c.subscribe(['t']);
    const second = c.subscribe(['t']);
    await Promise.all([first, second]);
    const group = broker.group('g');
    expect(group.members()).toHaveLength(1);
    expect(group.state).toBe('Stable');
    expect(c.assignment()).toEqual(tps(2));
    expect((await c.poll()).length).toBe(6);
    await broker.close();
  });

  it('a subscription changed 0 to 8 microtasks into the first join wins, without a second member', async () => {
    for (let gap = 0; gap <= 8; gap++) {
      const clock = new ManualClock();
      const broker = await withRecords(1, 1, { clock });
      await broker.createTopic('u', { partitions: 3 });
      const c = broker.consumer({ groupId: 'g' });
      const first = c.subscribe('t');
      for (let i = 0; i < gap; i++) await null;
      const second = c.subscribe(['u']);
      await Promise.all([first, second]);
      expect(broker.group('g').members(), `gap ${gap}`).toHaveLength(1);
      expect(broker.group('g').state, `gap ${gap}`).toBe('Stable');
      expect(c.assignment(), `gap ${gap}`).toEqual([0, 1, 2].map((partition) => ({ topic: 'u', partition })));
      await broker.close();
    }
  });

  it('close() 0 to 8 microtasks into the join leaves no member behind', async () => {
    for (let gap = 0; gap <= 8; gap++) {
      const clock = new ManualClock();
      const broker = await withRecords(1, 1, { clock });
      const c = broker.consumer({ groupId: 'g' });
      const joining = c.subscribe('t').catch((e: unknown) => e);
      for (let i = 0; i < gap; i++) await null;
      await c.close();
      await joining;
      expect(broker.group('g').members(), `gap ${gap}`).toEqual([]);
      expect(broker.group('g').state).toBe('Empty');
      const other = broker.consumer({ groupId: 'g' });
      await other.subscribe('t');
      expect(other.assignment()).toEqual(tps(1));
      await broker.close();
    }
  });
});

describe('errors never vanish', () => {
  function capture(): { logger: Logger; lines: { level: string; message: string; fields: unknown }[] } {
    const lines: { level: string; message: string; fields: unknown }[] = [];
    const at = (level: string) => (message: string, fields?: unknown) => lines.push({ level, message, fields });
    return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
  }

  it('a run handler that throws forever is logged once per cause, then rate-limited, with no error listener', async () => {
    const clock = new ManualClock();
    const { logger, lines } = capture();
    const broker = await withRecords(1, 1, { clock, logger });
    const c = broker.consumer({ autoOffsetReset: 'earliest', retryBackoffMs: 100 });
    await c.assign(tps(1));
    let calls = 0;
    await c.run({
      eachMessage: () => {
        calls++;
        throw new TypeError('boom');
      },
    });
    for (let i = 0; i < 50; i++) await clock.advance(100);
    expect(calls).toBeGreaterThan(20);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.message).toMatch(/eachMessage on t-0 failed: TypeError: boom/);
    expect(lines[0]!.fields).toMatchObject({ topic: 't', partition: 0, offset: 0 });
    await clock.advance(60_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.message).toMatch(/more times since last logged/);
    await c.close();
    await broker.close();
  });

  it('a failing background auto-commit is logged', async () => {
    const clock = new ManualClock();
    const { logger, lines } = capture();
    const broker = await withRecords(2, 1, { clock, logger });
    const c = broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommitIntervalMs: 1000 });
    await c.assign(tps(1));
    expect((await c.poll()).length).toBe(2);
    // A classic member joins group g: commits from outside the group (c assigned its partitions) are refused.
    const member = broker.consumer({ groupId: 'g', groupProtocol: 'classic' });
    await member.subscribe('t');
    await clock.advance(1000);
    expect(lines.map((l) => l.message).join('\n')).toMatch(/auto-commit failed: KafkaliteError NOT_IN_GROUP/);
    await broker.close();
  });

  it("'silent' logs nothing, and a bad logger is refused", async () => {
    await expectError(() => Broker.open({ logger: { warn: () => undefined } as unknown as Logger }), 'INVALID_ARGUMENT', /no debug\(\)/);
    await expectError(() => Broker.open({ logger: 'loud' as unknown as Logger }), 'INVALID_ARGUMENT', /"loud"/);
    const broker = await Broker.open({ logger: 'silent' });
    await broker.close();
  });
});
