/**
 * The broker against a reference model (records per partition, one consumer's positions, the
 * group's committed offsets) under random sequences of produce, poll, seek, commit, add
 * partitions, direct reads, clock advances, close + reopen and — for FileStorage — crash + reopen, on both
 * storages. fast-check `fc.commands`, fixed seed; `KAFKALITE_MODEL_RUNS` / `_SEED` for longer runs.
 */
import { cpSync, rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, ManualClock, MemoryStorage, type Consumer, type Producer } from 'kafkalite';
import { tempDir } from '../storage/fs/fs-helpers.js';

const RUNS = Number(process.env.KAFKALITE_MODEL_RUNS ?? 200);
const SEED = Number(process.env.KAFKALITE_MODEL_SEED ?? 424242);
const TOPIC = 'm';
const GROUP = 'g';

interface Model {
  /** Values per partition, in offset order. */
  logs: string[][];
  positions: number[];
  committed: (number | undefined)[];
  next: number;
}

interface Real {
  kind: 'memory' | 'file';
  clock: ManualClock;
  storage: MemoryStorage | undefined;
  dir: string | undefined;
  broker: Broker;
  producer: Producer;
  consumer: Consumer;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function open(real: Pick<Real, 'kind' | 'storage' | 'dir' | 'clock'>, partitions: number): Promise<Real> {
  const storage = real.kind === 'memory' ? real.storage! : new FileStorage({ dir: real.dir!, fsync: 'never' });
  const broker = await Broker.open({ storage, clock: real.clock });
  if (!broker.listTopics().includes(TOPIC)) await broker.createTopic(TOPIC, { partitions, retentionMs: -1 });
  const producer = broker.producer();
  const consumer = broker.consumer({ groupId: GROUP, autoCommit: false, autoOffsetReset: 'earliest', maxPollRecords: 50 });
  const count = broker.topic(TOPIC).partitions.length;
  await consumer.assign(Array.from({ length: count }, (_, partition) => ({ topic: TOPIC, partition })));
  return { ...real, broker, producer, consumer };
}

/** After a restart the consumer starts at the committed offsets, else at the start. */
function restartPositions(m: Model): void {
  m.positions = m.committed.map((c) => c ?? 0);
}

class Produce implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly partitions: number[],
    readonly keyed: boolean,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const messages = this.partitions.map((p) => ({ value: `v${m.next++}`, partition: p % m.logs.length, ...(this.keyed ? { key: 'k' } : {}) }));
    const metas = await r.producer.send({ topic: TOPIC, messages });
    for (const msg of messages) m.logs[msg.partition]!.push(msg.value);
    for (const meta of metas) {
      const first = messages.find((x) => x.partition === meta.partition)!;
      expect(m.logs[meta.partition]![meta.baseOffset]).toBe(first.value);
    }
  }
  toString = (): string => `produce(${this.partitions.join(',')})`;
}

class Poll implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const records = await r.consumer.poll();
    const seen = new Map<number, number>();
    for (const rec of records) {
      const expected = m.positions[rec.partition]! + (seen.get(rec.partition) ?? 0);
      expect(rec.offset, `partition ${rec.partition}`).toBe(expected);
      expect(rec.value!.toString()).toBe(m.logs[rec.partition]![rec.offset]);
      seen.set(rec.partition, (seen.get(rec.partition) ?? 0) + 1);
    }
    for (const [p, n] of seen) m.positions[p]! += n;
    if (records.length === 0) {
      // Nothing returned: every partition is read to its end.
      m.logs.forEach((log, p) => expect(m.positions[p], `partition ${p} is caught up`).toBe(log.length));
    }
    m.logs.forEach((_, p) => expect(r.consumer.position({ topic: TOPIC, partition: p })).toBe(m.positions[p]));
  }
  toString = (): string => 'poll';
}

class Seek implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly partition: number,
    readonly fraction: number,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const p = this.partition % m.logs.length;
    const offset = Math.floor(this.fraction * (m.logs[p]!.length + 1));
    r.consumer.seek({ topic: TOPIC, partition: p, offset });
    m.positions[p] = offset;
  }
  toString = (): string => `seek(${this.partition}, ${this.fraction.toFixed(2)})`;
}

class Commit implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.consumer.commit();
    m.committed = [...m.positions];
    for (let p = 0; p < m.logs.length; p++) expect(await r.consumer.committed({ topic: TOPIC, partition: p })).toBe(m.committed[p]);
  }
  toString = (): string => 'commit';
}

class Read implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly partition: number,
    readonly fraction: number,
    readonly max: number,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const p = this.partition % m.logs.length;
    const log = m.logs[p]!;
    const from = Math.floor(this.fraction * (log.length + 1));
    const records = await r.broker.topic(TOPIC).partition(p).read(from, { maxRecords: this.max });
    expect(records.map((x) => x.value!.toString())).toEqual(log.slice(from, from + this.max));
    expect(r.broker.topic(TOPIC).partition(p).logEndOffset).toBe(log.length);
  }
  toString = (): string => `read(${this.partition}, ${this.fraction.toFixed(2)}, ${this.max})`;
}

class AddPartitions implements fc.AsyncCommand<Model, Real> {
  constructor(readonly more: number) {}
  check = (m: Readonly<Model>): boolean => m.logs.length + this.more <= 6;
  async run(m: Model, r: Real): Promise<void> {
    const total = m.logs.length + this.more;
    await r.broker.topic(TOPIC).addPartitions(total);
    const fresh = Array.from({ length: this.more }, (_, i) => ({ topic: TOPIC, partition: m.logs.length + i }));
    await r.consumer.assign([...r.consumer.assignment(), ...fresh]);
    for (let i = 0; i < this.more; i++) {
      m.logs.push([]);
      m.positions.push(0);
      m.committed.push(undefined);
    }
  }
  toString = (): string => `addPartitions(+${this.more})`;
}

/** Close everything and open the same storage again: the consumer resumes at committed offsets. */
class Reopen implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.broker.close();
    Object.assign(r, await open(r, m.logs.length));
    restartPositions(m);
    expect(r.broker.topic(TOPIC).partitions.length).toBe(m.logs.length);
  }
  toString = (): string => 'reopen';
}

/**
 * FileStorage only: the process "dies" — its folder is copied as it is, with no clean close —
 * and the copy is opened. Every acknowledged record must be there (fsync 'never' loses nothing
 * to a process crash).
 */
class Crash implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    if (r.kind !== 'file') return;
    const copy = tempDir('model-crash');
    dirs.push(copy);
    cpSync(r.dir!, copy, { recursive: true });
    await r.broker.close(); // the original; the copy never saw this close
    Object.assign(r, await open({ kind: 'file', storage: undefined, dir: copy, clock: r.clock }, m.logs.length));
    restartPositions(m);
    m.logs.forEach((log, p) => expect(r.broker.topic(TOPIC).partition(p).logEndOffset).toBe(log.length));
  }
  toString = (): string => 'crash';
}

/** Time passes: timers (linger, retention checks, checkpoints, fsync intervals) fire; nothing may change. */
class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.clock.advance(this.ms);
    m.logs.forEach((log, p) => expect(r.broker.topic(TOPIC).partition(p).logEndOffset).toBe(log.length));
  }
  toString = (): string => `advance(${this.ms})`;
}

const commands = [
  fc.integer({ min: 0, max: 400_000 }).map((ms) => new Advance(ms)),
  fc.tuple(fc.array(fc.nat(5), { minLength: 1, maxLength: 8 }), fc.boolean()).map(([ps, keyed]) => new Produce(ps, keyed)),
  fc.constant(new Poll()),
  fc.tuple(fc.nat(5), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })).map(([p, f]) => new Seek(p, f)),
  fc.constant(new Commit()),
  fc.tuple(fc.nat(5), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 1, max: 20 })).map(([p, f, n]) => new Read(p, f, n)),
  fc.integer({ min: 1, max: 2 }).map((n) => new AddPartitions(n)),
  fc.constant(new Reopen()),
  fc.constant(new Crash()),
];

describe.each(['memory', 'file'] as const)('broker model (%s storage)', (kind) => {
  it(`matches the model over ${RUNS} random command sequences`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.commands(commands, { maxCommands: 40, size: 'large' }), async (partitions, cmds) => {
        const dir = kind === 'file' ? tempDir('model') : undefined;
        if (dir !== undefined) dirs.push(dir);
        const real = await open({ kind, storage: kind === 'memory' ? new MemoryStorage() : undefined, dir, clock: new ManualClock(1_700_000_000_000) }, partitions);
        const model: Model = {
          logs: Array.from({ length: partitions }, () => []),
          positions: Array.from({ length: partitions }, () => 0),
          committed: Array.from({ length: partitions }, () => undefined),
          next: 0,
        };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await real.broker.close();
          if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});
