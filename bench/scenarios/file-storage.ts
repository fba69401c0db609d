/**
 * `file-storage`: FileStorage on a real disk, beside the disk's own ceiling measured in the same
 * run — raw sequential `writeSync` of 1 MiB chunks holding the same bytes kafkalite writes,
 * then one `fsync` (the scenario's baseline row: "vs ceiling" of these rows divides by it).
 *
 * Rows produce only (what reaches the disk is the point); each run ends when every send
 * resolved and the broker closed (which flushes and fsyncs), so `'interval'` and `'never'` rows
 * include their final fsync. The folder is `KAFKALITE_BENCH_DIR` or the OS temp folder.
 *
 * The reopen rows build a log of `KAFKALITE_BENCH_LOG_MB` MiB (default 1024) once, then time
 * `Broker.open` after a clean close, and after a crash (a child process appends a 16 MiB tail
 * past the recovery checkpoint and kills itself with SIGKILL) — recovery reads the tail only —
 * and after a crash with no checkpoint at all (the whole log is scanned).
 */

import { spawnSync } from 'node:child_process';
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Broker, FileStorage, RecordBatchBuilder, type Message } from 'kafkalite';
import { signal, type Case, type Scenario } from '../lib/harness.js';
import { freshBenchDir, rawDiskCase } from '../lib/raw-disk.js';
import { VALUE } from '../lib/kafkalite.js';
import { hypercoreAppendCase } from '../lib/peers/hypercore.js';
import { redisPipelinedCase } from '../lib/peers/redis.js';
import { sqliteProduceCase } from '../lib/peers/sqlite.js';

const LOG_MB = Number(process.env.KAFKALITE_BENCH_LOG_MB ?? 1024);
const TOPIC = 'bench';
const PER_SEND = 1000;
const CHUNK = 1 << 20;

function messagesFor(count: number): Message[] {
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { value: VALUE };
  return out;
}

/** Bytes per record in kafkalite's batches of 1000 100-byte values: what the raw row writes per message. */
function bytesPerRecord(): number {
  const builder = new RecordBatchBuilder();
  for (let i = 0; i < PER_SEND; i++) builder.append(0, null, VALUE);
  return builder.build().length / PER_SEND;
}

function rawCase(messages: number): Case {
  return rawDiskCase('raw writeSync 1 MiB chunks + 1 fsync [disk baseline]', messages, () => messages * bytesPerRecord());
}

/** A broker on a fresh folder with one single-partition topic. */
async function openBroker(fsync: 'always' | 'interval' | 'never', dir = freshBenchDir()): Promise<{ broker: Broker; dir: string }> {
  const broker = await Broker.open({ storage: new FileStorage({ dir, fsync }) });
  if (!broker.listTopics().includes(TOPIC)) await broker.createTopic(TOPIC, { partitions: 1, retentionMs: -1 });
  return { broker, dir };
}

const DURABILITY = {
  always: 'power loss (fsync before ack)',
  interval: 'process crash (fsync every 1 s)',
  never: 'process crash (OS flushes)',
} as const;

function batchedCase(fsync: 'interval' | 'never' | 'always', messages: number, inFlight: number): Case {
  return {
    name: `fsync '${fsync}', send×1000, ${inFlight} in flight`,
    ...(fsync === 'always' ? { id: 'kafkalite-always-batched' } : {}),
    messages,
    system: 'kafkalite',
    durability: DURABILITY[fsync],
    async prepare() {
      const { broker, dir } = await openBroker(fsync);
      const producer = broker.producer();
      return {
        async run() {
          const window: Promise<unknown>[] = [];
          for (let sent = 0; sent < messages; sent += PER_SEND) {
            window.push(producer.send({ topic: TOPIC, messages: messagesFor(Math.min(PER_SEND, messages - sent)) }));
            if (window.length >= inFlight) await window.shift();
          }
          await Promise.all(window);
          await broker.close();
        },
        async finish() {
          await check(dir, messages);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** `producers` producers, each sending one message per `send`, `inFlight` sends outstanding each. */
function singleCase(name: string, messages: number, producers: number, inFlight: number, id?: string): Case {
  return {
    name,
    ...(id === undefined ? {} : { id }),
    messages,
    system: 'kafkalite',
    durability: DURABILITY.always,
    async prepare() {
      const { broker, dir } = await openBroker('always');
      const each = Math.ceil(messages / producers);
      const clients = Array.from({ length: producers }, () => broker.producer());
      return {
        async run() {
          await Promise.all(
            clients.map(async (producer, p) => {
              const window: Promise<unknown>[] = [];
              for (let i = 0; i < each && p * each + i < messages; i++) {
                window.push(producer.send({ topic: TOPIC, messages: [{ value: VALUE }] }));
                if (window.length >= inFlight) await window.shift();
              }
              await Promise.all(window);
            }),
          );
          await broker.close();
        },
        async finish() {
          await check(dir, messages);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** Every message reached the log. */
async function check(dir: string, messages: number): Promise<void> {
  const broker = await Broker.open({ storage: new FileStorage({ dir }) });
  const end = broker.topic(TOPIC).partition(0).logEndOffset;
  await broker.close();
  if (end !== messages) throw new Error(`the log ends at ${end}, expected ${messages}`);
}

// ---- reopen rows: one big log, built once per process -----------------------------------------

let bigLog: { dir: string; records: number } | undefined;

async function buildBigLog(): Promise<{ dir: string; records: number }> {
  if (bigLog !== undefined) return bigLog;
  const { broker, dir } = await openBroker('never');
  const producer = broker.producer();
  const records = Math.floor((LOG_MB * CHUNK) / bytesPerRecord() / PER_SEND) * PER_SEND;
  const window: Promise<unknown>[] = [];
  for (let sent = 0; sent < records; sent += PER_SEND) {
    window.push(producer.send({ topic: TOPIC, messages: messagesFor(PER_SEND) }));
    if (window.length >= 8) await window.shift();
  }
  await Promise.all(window);
  await broker.close();
  bigLog = { dir, records };
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return bigLog;
}

const CRASH_TAIL_CHILD = `
import { Broker, FileStorage } from ${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)};
const broker = await Broker.open({ storage: new FileStorage({ dir: process.argv[1], fsync: 'never', checkpointIntervalMs: 3600000 }) });
const producer = broker.producer();
const value = Buffer.alloc(100, 0x61);
const batch = Array.from({ length: 1000 }, () => ({ value }));
for (let i = 0; i < 140; i++) await producer.send({ topic: 'bench', messages: batch });
process.kill(process.pid, 'SIGKILL');
`;

function reopenCase(kind: 'clean' | 'crash tail' | 'crash, no checkpoint'): Case {
  const name =
    kind === 'clean'
      ? `open after clean close, ${LOG_MB} MiB log`
      : kind === 'crash tail'
        ? `open after crash, ${LOG_MB} MiB log + 16 MiB unflushed tail`
        : `open after crash, ${LOG_MB} MiB log, no checkpoint (full scan)`;
  return {
    name,
    messages: 1,
    kind: 'duration',
    system: 'kafkalite',
    async prepare() {
      const { dir } = await buildBigLog();
      if (kind !== 'clean') {
        // A real crash: a child appends a tail past the checkpoint and SIGKILLs itself.
        const child = spawnSync(process.execPath, ['--input-type=module', '-e', CRASH_TAIL_CHILD, dir], { stdio: 'inherit' });
        if (child.signal !== 'SIGKILL') throw new Error(`the crash child ended with ${child.signal ?? child.status}, not SIGKILL (is dist/ built?)`);
        if (kind === 'crash, no checkpoint') unlinkSync(join(dir, 'recovery-point-offset-checkpoint'));
      }
      const opened = signal();
      let broker: Broker | undefined;
      return {
        async run() {
          broker = await Broker.open({ storage: new FileStorage({ dir }) });
          opened.resolve();
        },
        async finish() {
          await opened.promise;
          await broker!.close();
        },
      };
    },
  };
}

export const fileStorage: Scenario = {
  name: 'file-storage',
  description:
    'on disk, produce only: FileStorage per fsync mode beside raw writes + fsync, SQLite WAL (NORMAL/FULL), Redis AOF and hypercore at equal durability; reopen times',
  cases({ messages }) {
    const always1 = Math.min(messages, 3000);
    const always8 = Math.min(messages, 16_000);
    const groupCommit = Math.min(messages, 250_000);
    const redis = Math.min(messages, 200_000);
    const hypercore = Math.min(messages, 200_000);
    const fmt = (n: number): string => n.toLocaleString('en-US');
    return [
      rawCase(messages),
      // process-crash tier: acknowledged writes are in the OS page cache
      batchedCase('interval', messages, 4),
      batchedCase('never', messages, 4),
      sqliteProduceCase({ name: 'SQLite WAL synchronous=NORMAL: INSERT tx×1000', id: 'sqlite-normal-batched', mode: 'NORMAL', messages, perTx: PER_SEND }),
      redisPipelinedCase({
        name: `Redis Streams AOF appendfsync everysec: XADD pipelined ×1000, 4 in flight (${fmt(redis)} msgs, 3 runs)`,
        messages: redis,
        persistence: 'everysec',
        groups: 0,
        maxRuns: 3,
      }),
      hypercoreAppendCase(`hypercore 11: append ×1000, 4 in flight (${fmt(hypercore)} msgs, 3 runs)`, hypercore, 3),
      // power-loss tier: fsync before the acknowledgement
      batchedCase('always', messages, 4),
      sqliteProduceCase({ name: 'SQLite WAL synchronous=FULL: INSERT tx×1000', id: 'sqlite-full-batched', mode: 'FULL', messages, perTx: PER_SEND }),
      redisPipelinedCase({
        name: `Redis Streams AOF appendfsync always: XADD pipelined ×1000, 4 in flight (${fmt(redis)} msgs, 3 runs)`,
        id: 'redis-always-batched',
        messages: redis,
        persistence: 'always',
        groups: 0,
        maxRuns: 3,
      }),
      singleCase(`fsync 'always', 1 producer, send×1 awaited (${fmt(always1)} msgs)`, always1, 1, 1, 'kafkalite-always-single'),
      sqliteProduceCase({
        name: `SQLite WAL synchronous=FULL: INSERT ×1 per tx (${fmt(always1)} msgs)`,
        id: 'sqlite-full-single',
        mode: 'FULL',
        messages: always1,
        perTx: 1,
      }),
      singleCase(`fsync 'always', 8 producers, send×1 awaited each (${fmt(always8)} msgs)`, always8, 8, 1),
      singleCase(`fsync 'always', 8 producers, send×1, 64 in flight each (${fmt(groupCommit)} msgs)`, groupCommit, 8, 64, 'kafkalite-always-group-commit'),
      reopenCase('clean'),
      reopenCase('crash tail'),
      reopenCase('crash, no checkpoint'),
    ];
  },
};

