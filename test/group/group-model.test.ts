import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Broker, ManualClock, type ConsumerOptions } from 'kafkalite';
import { groupModelProperty, newStats, SpinGuardClock } from './group-model.js';

/** Fixed, so `npm test` is reproducible; the soak (`npm run soak`) explores random seeds for longer. */
const SEED = 20_240_601;
const NUM_RUNS = 1200;
const MAX_COMMANDS = 50;

const tick = () => new Promise((r) => setImmediate(r));

describe.each([
  ['consumer', NUM_RUNS],
  ['classic', 800],
] as const)('Consumer groups on the %s protocol, model-based (fast-check commands)', (groupProtocol, numRuns) => {
  it('keeps a disjoint cover, one processor per partition, contiguous offsets, fenced commits and at-least-once delivery', async () => {
    const stats = newStats();
    await fc.assert(groupModelProperty({ stats, maxCommands: MAX_COMMANDS, groupProtocol }), { seed: SEED, numRuns });
    // How often the interesting cases came up (zombies: a removed member still processing).
    console.log(`group model (${groupProtocol}): ${JSON.stringify(stats)}`);
  }, 120_000);
});

/** Minimal cases of what the model found; each fails on the code it was found on. */
describe('Consumer groups, found by the model', () => {
  const options = { groupId: 'g', autoOffsetReset: 'earliest', autoCommit: false, maxPollIntervalMs: 30_000, sessionTimeoutMs: 10_000 } as const;

  it('does not remove a member that polled within maxPollIntervalMs', async () => {
    const clock = new ManualClock();
    const broker = await Broker.open({ clock });
    await broker.createTopic('t', { partitions: 1 });
    const c = broker.consumer(options);
    await c.subscribe('t'); // polledAt 0; heartbeats every 3333 ms report it
    await clock.advance(29_999);
    await c.poll(); // in time, 1 ms before the deadline, but the next heartbeat is due at 33_330
    await clock.advance(1);
    expect(broker.group('g').members()).toHaveLength(1);
    await broker.close();
  });

  describe('a revocation waiting for the next poll, then no longer needed (cooperative-sticky)', () => {
    async function setup() {
      const clock = new SpinGuardClock();
      const broker = await Broker.open({ clock });
      await broker.createTopic('t', { partitions: 2 });
      await broker.producer().send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] });
      const sticky: ConsumerOptions = { ...options, assignor: 'cooperative-sticky' };
      const a = broker.consumer(sticky);
      await a.subscribe('t');
      expect(await a.poll()).toHaveLength(2); // a processes records of both partitions until its next poll
      const b = broker.consumer(sticky);
      void b.subscribe('t').catch(() => undefined);
      for (let i = 0; i < 5; i++) await tick(); // a is told to revoke one partition: that waits for a's next poll
      expect(broker.group('g').state).toBe('PreparingRebalance');
      await b.close(); // the partition is a's again: nothing is left to revoke
      for (let i = 0; i < 5; i++) await tick();
      return { clock, broker, a };
    }

    it('does not spin heartbeats (a busy loop that starves the event loop)', async () => {
      const { clock, broker } = await setup();
      expect(clock.spun).toBeUndefined();
      clock.reset();
      await broker.close();
    });

    it('is dropped: once the group is Stable, the next poll revokes nothing', async () => {
      const { clock, broker, a } = await setup();
      clock.reset(); // (if it spun, the guard broke the loop: see the previous test)
      expect(broker.group('g').state).toBe('Stable');
      const events: string[] = [];
      a.on('partitionsRevoked', (tps) => events.push(`-${tps.map((tp) => tp.partition).join(',')}`));
      a.on('partitionsAssigned', (tps) => events.push(`+${tps.map((tp) => tp.partition).join(',')}`));
      await a.poll();
      for (let i = 0; i < 5; i++) await tick();
      expect(events).toEqual([]);
      expect(a.assignment()).toHaveLength(2);
      await broker.close();
    });
  });
});
