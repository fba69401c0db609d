/**
 * The broker driven the way applications and frameworks drive it: calls issued without awaiting
 * each other, separated by nothing, by microtasks, by macrotasks or by clock advances, on
 * several producers at once (some with `lingerMs` on a `ManualClock`), to existing and
 * auto-created topics, with `assign` followed at once by `seek*`, partitions added, producers
 * closed and the broker closed while sends, polls and `run` handlers are in flight.
 *
 * Every message carries a unique id and is built in one scratch buffer that is overwritten
 * right after each call. At the end the logs are read back and checked:
 * - per producer and partition, calls got offsets in call order;
 * - each call's records to one partition are consecutive, in the order given, and its
 *   RecordMetadata names the first of them;
 * - stored bytes (key, value, headers) equal the bytes at the call;
 * - a refused call appended nothing (nor created its topic), and every stored record belongs to
 *   a call that resolved;
 * - after a close and reopen (and, on FileStorage, after a crash: the folder copied without a
 *   close) every acknowledged record is there at its offset;
 * - a manual consumer sees `seek` right after an un-awaited `assign` win, and every poll returns
 *   contiguous records equal to the log; a `run` consumer gets each partition in offset order.
 */
import { cpSync, rmSync } from 'node:fs';
import fc from 'fast-check';
import { expect } from 'vitest';
import { Broker, FileStorage, ManualClock, MemoryStorage, type ConsumerRecord, type Message, type Producer, type RecordMetadata } from 'kafkalite';
import { tempDir } from '../storage/fs/fs-helpers.js';

export type StorageKind = 'memory' | 'file';

const MAIN = 'm';
const TOPICS = [MAIN, 'auto0', 'auto1'] as const;
const AUTO_PARTITIONS = 2;

// ---- the generated scenario -----------------------------------------------------------------

interface MessageSpec {
  key: 'none' | 'string' | 'bytes';
  /** An explicit partition (possibly one the topic lacks: the call is then refused). */
  partition: number | undefined;
  size: number;
  headers: 'none' | 'one' | 'repeated';
  timestamp: boolean;
}

type Gap = { kind: 'none' } | { kind: 'micro'; n: number } | { kind: 'macro' } | { kind: 'advance'; ms: number; awaited: boolean };

type Op =
  | { kind: 'send'; producer: number; topic: number; messages: MessageSpec[]; also: number | undefined }
  | { kind: 'flush'; producer: number }
  | { kind: 'closeProducer'; producer: number }
  | { kind: 'reassign'; seekPartition: number; seekFraction: number; others: 'beginning' | 'end' | 'none' }
  | { kind: 'poll' }
  | { kind: 'addPartitions' };

interface ProducerSpec {
  lingerMs: 0 | 5;
  batchSize: number;
  partitioner: 'sticky' | 'round-robin';
}

export interface Scenario {
  partitions: number;
  producers: ProducerSpec[];
  steps: { op: Op; gap: Gap }[];
  run: boolean;
  /** How it ends: everything settles first, or `broker.close()` goes out with calls in flight. */
  ending: 'settle' | 'close-in-flight';
}

const messageSpec: fc.Arbitrary<MessageSpec> = fc.record({
  key: fc.constantFrom('none', 'none', 'string', 'bytes'),
  partition: fc.option(fc.nat(4), { freq: 4, nil: undefined }),
  size: fc.integer({ min: 0, max: 300 }),
  headers: fc.constantFrom('none', 'none', 'one', 'repeated'),
  timestamp: fc.boolean(),
});

const gap: fc.Arbitrary<Gap> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Gap>({ kind: 'none' }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }).map((n): Gap => ({ kind: 'micro', n })) },
  { weight: 2, arbitrary: fc.constant<Gap>({ kind: 'macro' }) },
  { weight: 1, arbitrary: fc.record({ ms: fc.integer({ min: 0, max: 8 }), awaited: fc.boolean() }).map((a): Gap => ({ kind: 'advance', ...a })) },
);

function op(producers: number): fc.Arbitrary<Op> {
  const producer = fc.nat(producers - 1);
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .record({
          producer,
          topic: fc.constantFrom(0, 0, 0, 1, 2),
          messages: fc.array(messageSpec, { minLength: 1, maxLength: 12 }),
          also: fc.option(fc.nat(2), { freq: 5, nil: undefined }),
        })
        .map((o): Op => ({ kind: 'send', ...o })),
    },
    { weight: 1, arbitrary: producer.map((p): Op => ({ kind: 'flush', producer: p })) },
    { weight: 1, arbitrary: producer.map((p): Op => ({ kind: 'closeProducer', producer: p })) },
    {
      weight: 2,
      arbitrary: fc
        .record({
          seekPartition: fc.nat(4),
          seekFraction: fc.double({ min: 0, max: 1, noNaN: true }),
          others: fc.constantFrom('beginning', 'end', 'none'),
        })
        .map((o): Op => ({ kind: 'reassign', ...o })),
    },
    { weight: 3, arbitrary: fc.constant<Op>({ kind: 'poll' }) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'addPartitions' }) },
  );
}

export const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    partitions: fc.integer({ min: 1, max: 3 }),
    producers: fc.array(
      fc.record({
        lingerMs: fc.constantFrom<0 | 5>(0, 5),
        batchSize: fc.constantFrom(256, 1024, 16_384),
        partitioner: fc.constantFrom<'sticky' | 'round-robin'>('sticky', 'round-robin'),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    run: fc.boolean(),
    ending: fc.constantFrom<'settle' | 'close-in-flight'>('settle', 'close-in-flight'),
  })
  .chain((base) =>
    fc.array(fc.record({ op: op(base.producers.length), gap }), { minLength: 1, maxLength: 30 }).map((steps) => ({ ...base, steps })),
  );

// ---- running it -----------------------------------------------------------------------------

interface Expected {
  id: string;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, Buffer | Buffer[]>;
  timestamp: number | undefined;
}

interface Call {
  producer: number;
  /** Per producer, in call order. */
  seq: number;
  topics: { topic: string; messages: Expected[] }[];
  outcome: { meta: RecordMetadata[] } | { error: unknown } | undefined;
}

const TS = 1_700_000_000_000;

interface Stored {
  topic: string;
  partition: number;
  offset: number;
  record: ConsumerRecord;
}

/** Runs one scenario on a fresh broker and checks it; throws (expect) on any broken guarantee. */
export async function runScenario(kind: StorageKind, s: Scenario, cleanup: string[]): Promise<void> {
  const clock = new ManualClock(TS);
  const dir = kind === 'file' ? tempDir('concurrent') : undefined;
  if (dir !== undefined) cleanup.push(dir);
  const memory = kind === 'memory' ? new MemoryStorage() : undefined;
  const storage = (at = dir): MemoryStorage | FileStorage => memory ?? new FileStorage({ dir: at!, fsync: 'never' });
  const broker = await Broker.open({ storage: storage(), clock, defaultPartitions: AUTO_PARTITIONS, logger: 'silent' });
  await broker.createTopic(MAIN, { partitions: s.partitions, retentionMs: -1 });
  let mainPartitions = s.partitions;

  const producers: Producer[] = s.producers.map((o) => broker.producer(o));
  const closedProducers = new Set<number>();
  const seqs = s.producers.map(() => 0);
  const calls: Call[] = [];
  const pending: Promise<unknown>[] = [];
  const scratch = Buffer.alloc(64 * 1024);
  let brokerClosing = false;

  // The manual consumer: its steps run one after another, in the background of the producers.
  const manual = broker.consumer({ autoOffsetReset: 'earliest', maxPollRecords: 50 });
  const polled: Stored[] = [];
  const expectNext = new Map<number, number>();
  let consumerChain: Promise<void> = manual.assign(partitionsOf(MAIN, mainPartitions));
  for (let p = 0; p < mainPartitions; p++) expectNext.set(p, 0);

  // The run consumer: a group of one, from the beginning, handlers that take their time.
  const delivered = new Map<number, number[]>();
  const runner = s.run ? broker.consumer({ groupId: 'g', autoOffsetReset: 'earliest', retryBackoffMs: 1 }) : undefined;
  if (runner !== undefined) {
    await runner.subscribe(MAIN);
    await runner.run({
      eachMessage: async ({ partition, message }) => {
        const list = delivered.get(partition) ?? [];
        list.push(message.offset);
        delivered.set(partition, list);
        if (message.offset % 3 === 0) await null;
        if (message.offset % 7 === 0) await new Promise((r) => setImmediate(r));
      },
    });
  }

  const consumerStep = (step: () => Promise<void>): void => {
    consumerChain = consumerChain.then(step, step);
  };

  const pollStep = async (): Promise<void> => {
    if (brokerClosing) return;
    const records = await manual.poll().catch((error: unknown) => {
      if (brokerClosing) return [];
      throw error;
    });
    for (const r of records) {
      expect(r.offset, `poll of ${r.topic}-${r.partition}`).toBe(expectNext.get(r.partition));
      expectNext.set(r.partition, r.offset + 1);
      polled.push({ topic: r.topic, partition: r.partition, offset: r.offset, record: r });
    }
  };

  for (const { op, gap } of s.steps) {
    switch (op.kind) {
      case 'send': {
        const topics = [TOPICS[op.topic]!];
        if (op.also !== undefined && TOPICS[op.also] !== topics[0]) topics.push(TOPICS[op.also]!);
        const call: Call = { producer: op.producer, seq: seqs[op.producer]!++, topics: [], outcome: undefined };
        let at = 0;
        const args = topics.map((topic, t) => {
          const messages: Message[] = [];
          const expected: Expected[] = [];
          (t === 0 ? op.messages : op.messages.slice(0, 3)).forEach((m, i) => {
            const id = `P${op.producer}C${call.seq}T${t}M${i}`;
            const built = build(scratch, at, id, m, i);
            at = built.end;
            messages.push(built.message);
            expected.push(built.expected);
          });
          call.topics.push({ topic, messages: expected });
          return { topic, messages };
        });
        const producer = producers[op.producer]!;
        const promise = args.length === 1 ? producer.send(args[0]!) : producer.sendBatch({ topicMessages: args });
        scratch.fill(0xee, 0, at); // the caller reuses its buffer at once
        calls.push(call);
        pending.push(
          promise.then(
            (meta) => (call.outcome = { meta }),
            (error: unknown) => (call.outcome = { error }),
          ),
        );
        break;
      }
      case 'flush':
        pending.push(producers[op.producer]!.flush().catch(() => undefined));
        break;
      case 'closeProducer':
        closedProducers.add(op.producer);
        pending.push(producers[op.producer]!.close().catch(() => undefined));
        break;
      case 'reassign': {
        const { seekPartition, seekFraction, others } = op;
        consumerStep(async () => {
          if (brokerClosing) return;
          const count = broker.topic(MAIN).partitions.length;
          const target = seekPartition % count;
          const end = broker.topic(MAIN).partition(target).logEndOffset;
          const offset = Math.floor(seekFraction * end);
          // assign, then at once (not awaited): seek one partition, seekTo* the others.
          const assigned = manual.assign(partitionsOf(MAIN, count));
          manual.seek({ topic: MAIN, partition: target, offset });
          const rest = partitionsOf(MAIN, count).filter((tp) => tp.partition !== target);
          const moved = others === 'beginning' ? manual.seekToBeginning(rest) : others === 'end' ? manual.seekToEnd(rest) : undefined;
          await Promise.all([assigned, moved]);
          if (brokerClosing) return; // closed meanwhile: positions are CLOSED
          expect(manual.position({ topic: MAIN, partition: target }), 'a seek right after assign wins over the lookup').toBe(offset);
          expectNext.set(target, offset);
          for (const tp of rest) {
            const position = manual.position(tp);
            if (others === 'beginning') expect(position).toBe(0);
            expectNext.set(tp.partition, position);
          }
          await pollStep();
        });
        break;
      }
      case 'poll':
        consumerStep(pollStep);
        break;
      case 'addPartitions':
        if (mainPartitions < 5) {
          mainPartitions++;
          pending.push(broker.topic(MAIN).addPartitions(mainPartitions).catch(() => undefined));
        }
        break;
    }
    await wait(gap, clock);
  }

  // The end: let lingering batches go (advance the clock) — or close with calls in flight.
  if (s.ending === 'close-in-flight') {
    brokerClosing = true;
    const closing = broker.close();
    await clock.advance(10);
    await closing;
    await Promise.allSettled(pending);
  } else {
    await clock.advance(10);
    await Promise.allSettled(pending);
    await Promise.all(producers.map((p) => p.flush().catch(() => undefined)));
    await consumerChain;
    if (runner !== undefined) {
      await runner.caughtUp();
      for (const p of broker.topic(MAIN).partitions) {
        expect(delivered.get(p.id) ?? [], `run delivered all of ${MAIN}-${p.id} in order`).toEqual(range(0, p.logEndOffset));
      }
    }
  }
  await consumerChain.catch((error: unknown) => {
    if (!brokerClosing) throw error;
  });
  for (const [p, offsets] of delivered) expect(offsets, `run delivered ${MAIN}-${p} in offset order`).toEqual(range(offsets[0] ?? 0, (offsets[0] ?? 0) + offsets.length));

  // Every call has an outcome; calls issued before a producer closed were not refused for it.
  for (const call of calls) expect(call.outcome, `call P${call.producer}C${call.seq} settled`).toBeDefined();

  const stored = brokerClosing ? undefined : await readAll(broker);
  if (stored !== undefined) checkCalls(calls, stored, broker.listTopics());
  for (const p of polled) {
    if (stored === undefined) break;
    const there = stored.get(`${p.topic}/${p.partition}/${p.offset}`);
    expect(there, `polled ${p.topic}-${p.partition}@${p.offset} is in the log`).toBeDefined();
    expect(p.record.value).toEqual(there!.record.value);
  }

  // Crash (FileStorage): the folder as a killed process leaves it must hold every acknowledged record.
  if (dir !== undefined && !brokerClosing) {
    const copy = tempDir('concurrent-crash');
    cleanup.push(copy);
    cpSync(dir, copy, { recursive: true });
    const crashed = await Broker.open({ storage: storage(copy), clock, logger: 'silent' });
    checkCalls(calls, await readAll(crashed), crashed.listTopics());
    await crashed.close();
    rmSync(copy, { recursive: true, force: true });
  }

  await broker.close();
  const reopened = await Broker.open({ storage: storage(), clock, logger: 'silent' });
  checkCalls(calls, await readAll(reopened), reopened.listTopics());
  await reopened.close();
}

function checkCalls(calls: Call[], stored: Map<string, Stored>, topics: string[]): void {
  const byId = new Map<string, Stored>();
  for (const s of stored.values()) byId.set(idOf(s.record), s);
  const lastOffset = new Map<string, number>(); // producer + partition → last offset of its previous call there
  const acked = new Set<string>();
  const written = new Set<string>();
  for (const call of calls) {
    const outcome = call.outcome!;
    if ('error' in outcome) {
      for (const t of call.topics) for (const m of t.messages) expect(byId.has(m.id), `refused ${m.id} was not appended`).toBe(false);
      continue;
    }
    for (const { topic, messages } of call.topics) {
      written.add(topic);
      const runs = new Map<number, Stored[]>();
      for (const m of messages) {
        const s = byId.get(m.id);
        expect(s, `acknowledged ${m.id} is stored`).toBeDefined();
        acked.add(m.id);
        expect(s!.topic).toBe(topic);
        expect(s!.record.value, `value of ${m.id}`).toEqual(m.value);
        expect(s!.record.key, `key of ${m.id}`).toEqual(m.key);
        expect(s!.record.headers, `headers of ${m.id}`).toEqual(m.headers);
        if (m.timestamp !== undefined) expect(s!.record.timestamp).toBe(m.timestamp);
        const run = runs.get(s!.partition) ?? [];
        run.push(s!);
        runs.set(s!.partition, run);
      }
      for (const [partition, run] of runs) {
        const first = run[0]!.offset;
        expect(
          run.map((x) => x.offset),
          `P${call.producer}C${call.seq}'s records to ${topic}-${partition} are consecutive, in order`,
        ).toEqual(range(first, first + run.length));
        const meta = outcome.meta.find((m) => m.topic === topic && m.partition === partition);
        expect(meta?.baseOffset, `P${call.producer}C${call.seq}'s RecordMetadata for ${topic}-${partition}`).toBe(first);
        const key = `${call.producer}/${topic}/${partition}`;
        const before = lastOffset.get(key) ?? -1;
        expect(first, `P${call.producer}C${call.seq} lands after the producer's earlier calls to ${topic}-${partition}`).toBeGreaterThan(before);
        lastOffset.set(key, run[run.length - 1]!.offset);
      }
    }
  }
  for (const s of stored.values()) expect(acked.has(idOf(s.record)), `${idOf(s.record)} was acknowledged`).toBe(true);
  for (const t of TOPICS) if (t !== MAIN && !written.has(t)) expect(topics, `${t}: only refused calls, so not created`).not.toContain(t);
}

async function readAll(broker: Broker): Promise<Map<string, Stored>> {
  const out = new Map<string, Stored>();
  for (const name of broker.listTopics()) {
    for (const p of broker.topic(name).partitions) {
      let next = p.logStartOffset;
      for (;;) {
        const records = await p.read(next, { maxRecords: 1000 });
        if (records.length === 0) break;
        for (const r of records) out.set(`${name}/${p.id}/${r.offset}`, { topic: name, partition: p.id, offset: r.offset, record: r });
        next = records[records.length - 1]!.offset + 1;
      }
      expect(next, `${name}-${p.id} reads to its end`).toBe(p.logEndOffset);
    }
  }
  return out;
}

/** A message built in `scratch` at `at` (so the caller's buffer is reused), and what must be stored. */
function build(scratch: Buffer, at: number, id: string, m: MessageSpec, i: number): { message: Message; expected: Expected; end: number } {
  const value = Buffer.alloc(id.length + 1 + m.size);
  value.write(`${id}|`);
  for (let k = 0; k < m.size; k++) value[id.length + 1 + k] = (k * 31 + i) & 0xff;
  let end = at;
  const place = (bytes: Buffer): Buffer => {
    const view = scratch.subarray(end, end + bytes.length);
    bytes.copy(view);
    end += bytes.length;
    return view;
  };
  const message: Message = { value: place(value) };
  let key: Buffer | null = null;
  if (m.key === 'string') {
    message.key = `k${i % 3}`;
    key = Buffer.from(message.key);
  } else if (m.key === 'bytes') {
    key = Buffer.from(`bk${i % 4}`);
    message.key = place(key);
  }
  const headers: Record<string, Buffer | Buffer[]> = {};
  if (m.headers !== 'none') {
    const h = Buffer.from(`h-${id}`);
    if (m.headers === 'one') {
      message.headers = { trace: place(h), s: 'str' };
      headers.trace = h;
    } else {
      message.headers = { s: 'str', rep: [place(h), 'two'] };
      headers.rep = [h, Buffer.from('two')];
    }
    headers.s = Buffer.from('str');
  }
  if (m.partition !== undefined) message.partition = m.partition;
  if (m.timestamp) message.timestamp = TS - 1000 + i;
  return { message, expected: { id, key, value, headers, timestamp: message.timestamp }, end };
}

const idOf = (r: ConsumerRecord): string => r.value!.toString('latin1').split('|')[0]!;

function partitionsOf(topic: string, n: number): { topic: string; partition: number }[] {
  return Array.from({ length: n }, (_, partition) => ({ topic, partition }));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

async function wait(gap: Gap, clock: ManualClock): Promise<void> {
  switch (gap.kind) {
    case 'none':
      return;
    case 'micro':
      for (let i = 0; i < gap.n; i++) await null;
      return;
    case 'macro':
      await new Promise((r) => setImmediate(r));
      return;
    case 'advance': {
      const advanced = clock.advance(gap.ms);
      if (gap.awaited) await advanced;
    }
  }
}
