/**
 * Log compaction against a reference model, on both storages: random sequences of produce,
 * tombstone, compact, clock advances, bursts of un-awaited calls (produce and compact mixed),
 * each produce through a producer with one of the compression codecs or none (the cleaner thins
 * compressed batches as well as plain ones),
 * close + reopen and — FileStorage — a crash (the folder copied as it is, possibly in the middle
 * of a cleaning pass, and the copy opened). The model keeps every record produced, by offset.
 *
 * After every step the partition must read as a subsequence of what was produced, offsets
 * unchanged, holding each key's latest record (a tombstone may be gone); reading from any offset
 * starts at the next record kept. Right after a pass, with the boundary known (records before the
 * last produce command are outside the active segment when every batch rolls a segment):
 * superseded records are gone, tombstones are kept until their delete horizon and gone after.
 * fast-check, fixed seed; `KAFKALITE_MODEL_RUNS` / `_SEED` for longer runs.
 */
import { cpSync, rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage, ManualClock, MemoryStorage, type Producer, type ProducerOptions } from 'kafkalite';
import { tempDir } from '../storage/fs/fs-helpers.js';

const RUNS = Number(process.env.KAFKALITE_MODEL_RUNS ?? 200);
const SEED = Number(process.env.KAFKALITE_MODEL_SEED ?? 151515);
const TOPIC = 'c';
const KEYS = ['a', 'b', 'c', 'd', 'e'];
const DELETE_RETENTION_MS = 1000;
type CompressionCodec = NonNullable<ProducerOptions['compression']>;
const CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

interface Produced {
  key: string;
  value: string | null;
}

interface Model {
  /** Every record produced, by offset. */
  log: (Produced | undefined)[];
  next: number;
  /** Where the last produce command started: records before it are outside the active segment (strong mode). */
  boundary: number;
  /** Per tombstone offset: the clock at the first pass that may have seen it, and at the first completed pass that surely did. */
  tombstones: Map<number, { firstPass?: number; surePass?: number }>;
  /** Every batch rolls a segment (segmentBytes 14): the active segment is the last batch. */
  strong: boolean;
}

interface Real {
  kind: 'memory' | 'file';
  clock: ManualClock;
  storage: MemoryStorage | undefined;
  dir: string | undefined;
  segmentBytes: number;
  broker: Broker;
  /** One producer per compression codec. */
  producers: Record<CompressionCodec, Producer>;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function open(real: Omit<Real, 'broker' | 'producers'>): Promise<Real> {
  const storage = real.kind === 'memory' ? real.storage! : new FileStorage({ dir: real.dir!, fsync: 'never' });
  // Passes run only when the model asks (compact): the periodic check is far away.
  const broker = await Broker.open({ storage, clock: real.clock, retentionCheckIntervalMs: 1e12 });
  if (!broker.listTopics().includes(TOPIC)) {
    await broker.createTopic(TOPIC, { partitions: 1, cleanupPolicy: 'compact', segmentBytes: real.segmentBytes, deleteRetentionMs: DELETE_RETENTION_MS });
  }
  const producers = Object.fromEntries(CODECS.map((compression) => [compression, broker.producer({ lingerMs: 0, compression })])) as Record<CompressionCodec, Producer>;
  return { ...real, broker, producers };
}

async function produce(m: Model, r: Real, messages: Produced[], codec: CompressionCodec): Promise<void> {
  const metas = await r.producers[codec].send({ topic: TOPIC, messages });
  const base = metas[0]!.baseOffset;
  messages.forEach((msg, i) => record(m, base + i, msg));
}

function record(m: Model, offset: number, msg: Produced): void {
  m.log[offset] = msg;
  m.next = Math.max(m.next, offset + 1);
  if (msg.value === null) m.tombstones.set(offset, {});
}

/** The model's view of a pass that may have run at `now` (started; it may not have finished). */
function passStarted(m: Model, now: number): void {
  for (const [, t] of m.tombstones) t.firstPass ??= now;
}

/** What the partition holds now, checked against the model; returns it. */
async function checkLog(m: Model, r: Real): Promise<{ offset: number; key: string; value: string | null }[]> {
  const p = r.broker.topic(TOPIC).partition(0);
  expect(p.logEndOffset).toBe(m.next);
  expect(p.logStartOffset).toBe(0);
  const read = await p.read(0, { maxRecords: 100_000 });
  const got = read.map((x) => ({ offset: x.offset, key: x.key!.toString(), value: x.value === null ? null : x.value.toString() }));
  let last = -1;
  for (const g of got) {
    expect(g.offset).toBeGreaterThan(last);
    last = g.offset;
    expect(m.log[g.offset], `offset ${g.offset}`).toEqual({ key: g.key, value: g.value });
  }
  // Each key's latest record is kept (a tombstone may be gone).
  const kept = new Set(got.map((g) => g.offset));
  const latest = new Map<string, number>();
  m.log.forEach((x, offset) => x !== undefined && latest.set(x.key, offset));
  for (const [key, offset] of latest) {
    if (m.log[offset]!.value !== null) expect(kept.has(offset), `latest of ${key} at ${offset}`).toBe(true);
  }
  return got;
}

class Produce implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly messages: Produced[],
    readonly codec: CompressionCodec,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    m.boundary = m.next;
    await produce(m, r, this.messages, this.codec);
    await checkLog(m, r);
  }
  toString = (): string => `produce${this.codec === 'none' ? '' : `[${this.codec}]`}(${this.messages.map((x) => `${x.key}=${x.value ?? 'null'}`).join(',')})`;
}

class Compact implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const now = r.clock.now();
    passStarted(m, now);
    await r.broker.topic(TOPIC).compact();
    const got = await checkLog(m, r);
    const kept = new Set(got.map((g) => g.offset));
    if (!m.strong) return;
    const below = m.boundary;
    // Superseded before the boundary, by a record before it: gone.
    const lastBelow = new Map<string, number>();
    for (let o = 0; o < below; o++) if (m.log[o] !== undefined) lastBelow.set(m.log[o]!.key, o);
    for (let o = 0; o < below; o++) {
      const x = m.log[o];
      if (x !== undefined && lastBelow.get(x.key)! > o) expect(kept.has(o), `superseded ${x.key} at ${o}`).toBe(false);
    }
    // A tombstone, latest of its key overall and before the boundary: kept until its horizon, gone after.
    const latest = new Map<string, number>();
    m.log.forEach((x, offset) => x !== undefined && latest.set(x.key, offset));
    for (const [offset, t] of m.tombstones) {
      if (offset >= below || latest.get(m.log[offset]!.key) !== offset) continue;
      if (t.surePass !== undefined && now >= t.surePass + DELETE_RETENTION_MS) expect(kept.has(offset), `expired tombstone at ${offset}`).toBe(false);
      if (t.firstPass !== undefined && now < t.firstPass + DELETE_RETENTION_MS) expect(kept.has(offset), `tombstone at ${offset} within its retention`).toBe(true);
      t.surePass ??= now;
    }
  }
  toString = (): string => 'compact';
}

/** Seeking into the log (a read from any offset) starts at the next record kept. */
class Seek implements fc.AsyncCommand<Model, Real> {
  constructor(readonly fraction: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    const all = await checkLog(m, r);
    const offset = Math.floor(this.fraction * (m.next + 1));
    const got = await r.broker.topic(TOPIC).partition(0).read(offset, { maxRecords: 1 });
    const expected = all.find((g) => g.offset >= offset);
    expect(got[0]?.offset).toBe(expected?.offset);
  }
  toString = (): string => `seek(${this.fraction.toFixed(2)})`;
}

/** Produces and passes fired together, none awaited before the next is issued, across microtasks and macrotasks. */
class Burst implements fc.AsyncCommand<Model, Real> {
  constructor(readonly steps: ({ produce: Produced; codec: CompressionCodec } | { compact: true } | { tick: true })[]) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    if (this.steps.some((s) => 'produce' in s)) m.boundary = m.next;
    const waits: Promise<unknown>[] = [];
    for (const step of this.steps) {
      if ('produce' in step) {
        const msg = step.produce;
        waits.push(r.producers[step.codec].send({ topic: TOPIC, messages: [msg] }).then((metas) => record(m, metas[0]!.baseOffset, msg)));
      } else if ('compact' in step) {
        passStarted(m, r.clock.now());
        waits.push(r.broker.topic(TOPIC).compact());
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await Promise.all(waits);
    await checkLog(m, r);
  }
  toString = (): string =>
    `burst(${this.steps.map((s) => ('produce' in s ? `${s.codec === 'none' ? '' : `[${s.codec}]`}${s.produce.key}=${s.produce.value ?? 'null'}` : 'compact' in s ? 'compact' : 'tick')).join(',')})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.clock.advance(this.ms);
    await checkLog(m, r);
  }
  toString = (): string => `advance(${this.ms})`;
}

/** Close (with a pass fired and not awaited) and open again. */
class Reopen implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    passStarted(m, r.clock.now());
    const pass = r.broker.topic(TOPIC).compact().catch((error: { code?: string }) => expect(error.code).toBe('CLOSED'));
    await r.broker.close();
    await pass;
    Object.assign(r, await open(r));
    await checkLog(m, r);
  }
  toString = (): string => 'reopen';
}

/** FileStorage: the folder is copied as it is while a pass may be running, and the copy opened. */
class Crash implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ticks: number) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    if (r.kind !== 'file') return;
    passStarted(m, r.clock.now());
    const pass = r.broker.topic(TOPIC).compact().catch(() => undefined);
    for (let i = 0; i < this.ticks; i++) await new Promise((resolve) => setImmediate(resolve));
    const copy = tempDir('compaction-crash');
    dirs.push(copy);
    cpSync(r.dir!, copy, { recursive: true });
    await pass;
    await r.broker.close();
    Object.assign(r, await open({ ...r, dir: copy }));
    await checkLog(m, r);
  }
  toString = (): string => `crash(${this.ticks})`;
}

const message = fc.tuple(fc.constantFrom(...KEYS), fc.boolean(), fc.nat()).map(([key, tombstone]): Produced => ({ key, value: tombstone ? null : '' }));

const codec = fc.constantFrom(...CODECS);

const commands = [
  fc.tuple(fc.array(message, { minLength: 1, maxLength: 6 }), codec).map(([ms, c]) => new Produce(ms, c)),
  fc.constant(new Compact()),
  fc.integer({ min: 0, max: 3000 }).map((ms) => new Advance(ms)),
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => new Seek(f)),
  fc
    .array(fc.oneof(fc.tuple(message, codec).map(([produce, c]) => ({ produce, codec: c })), fc.constant({ compact: true as const }), fc.constant({ tick: true as const })), { minLength: 1, maxLength: 8 })
    .map((steps) => new Burst(steps)),
  fc.constant(new Reopen()),
  fc.integer({ min: 0, max: 6 }).map((ticks) => new Crash(ticks)),
];

describe.each(['memory', 'file'] as const)('compaction model (%s storage)', (kind) => {
  it(`keeps the latest record per key over ${RUNS} random command sequences`, async () => {
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(14, 300, 4000), fc.commands(commands, { maxCommands: 30, size: 'large' }), async (segmentBytes, cmds) => {
        const dir = kind === 'file' ? tempDir('compaction-model') : undefined;
        if (dir !== undefined) dirs.push(dir);
        const real = await open({ kind, storage: kind === 'memory' ? new MemoryStorage() : undefined, dir, segmentBytes, clock: new ManualClock(1_700_000_000_000) });
        const model: Model = { log: [], next: 0, boundary: 0, tombstones: new Map(), strong: segmentBytes === 14 };
        // Values are unique, so a record read back is the one produced at its offset.
        const unique = (c: fc.AsyncCommand<Model, Real>): void => {
          const msgs = c instanceof Produce ? c.messages : c instanceof Burst ? c.steps.flatMap((s) => ('produce' in s ? [s.produce] : [])) : [];
          for (const msg of msgs) if (msg.value !== null) msg.value = `v${serial++}`;
        };
        const list = [...cmds];
        list.forEach(unique);
        try {
          await fc.asyncModelRun(() => ({ model, real }), list);
        } finally {
          await real.broker.close();
          if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 300_000);
});
