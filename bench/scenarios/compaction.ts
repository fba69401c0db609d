/**
 * `compaction`: what log compaction does for `__consumer_offsets`. A FileStorage broker (fsync
 * 'never') takes `--messages` offset commits (default 1,000,000: 50,000 commit calls of 20
 * partitions each, as an app auto-committing 20 partitions writes them) — built once per process.
 * Rows, on copies of that folder:
 *
 * - `Broker.open` before compaction: the offsets log is replayed whole;
 * - one cleaning pass over it (`topic.compact()`): MB/s of log read and rewritten;
 * - `Broker.open` after that pass: the replay reads the latest commit per key plus the active
 *   segment (1 MiB at most).
 *
 * The first row is the baseline; compare the third with it (reopen after ÷ before).
 */

import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Broker, FileStorage, RecordBatchBuilder } from 'kafkalite';
import { signal, type Case, type Scenario } from '../lib/harness.js';
import { freshBenchDir } from '../lib/raw-disk.js';

const PARTITIONS = 20;
const GROUP = 'billing';
const TOPIC = 'orders';
const OFFSETS = '__consumer_offsets';
const WINDOW = 8;

function copyOf(dir: string): string {
  const copy = freshBenchDir();
  cpSync(dir, copy, { recursive: true });
  return copy;
}

/** Bytes of one commit call's batch, as the offset store writes it (docs/format.md, "Committed offsets"). */
function commitBatchBytes(): number {
  const builder = new RecordBatchBuilder();
  for (let p = 0; p < PARTITIONS; p++) {
    const g = Buffer.from(GROUP);
    const t = Buffer.from(TOPIC);
    const key = Buffer.alloc(2 + 2 + g.length + 2 + t.length + 4);
    let at = key.writeInt16BE(1, 0);
    at = key.writeInt16BE(g.length, at);
    at += g.copy(key, at);
    at = key.writeInt16BE(t.length, at);
    at += t.copy(key, at);
    key.writeInt32BE(p, at);
    builder.append(1_767_225_600_000, key, Buffer.alloc(24));
  }
  return builder.build().length;
}

let built: { dir: string; compacted: string | undefined } | undefined;

/** The folder with `records` offset commits, built once per process; removed at exit. */
async function buildOffsets(records: number): Promise<{ dir: string; compacted: string | undefined }> {
  if (built !== undefined) return built;
  const dir = freshBenchDir();
  const broker = await Broker.open({ storage: new FileStorage({ dir, fsync: 'never' }) });
  await broker.createTopic(TOPIC, { partitions: PARTITIONS });
  const consumer = broker.consumer({ groupId: GROUP, autoCommit: false });
  await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < records / PARTITIONS; i++) {
    window.push(consumer.commit(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition, offset: i }))));
    if (window.length >= WINDOW) await window.shift();
  }
  await Promise.all(window);
  await consumer.close();
  await broker.close();
  built = { dir, compacted: undefined };
  process.on('exit', () => {
    rmSync(dir, { recursive: true, force: true });
    if (built?.compacted !== undefined) rmSync(built.compacted, { recursive: true, force: true });
  });
  return built;
}

function logBytes(dir: string): number {
  const partition = join(dir, `${OFFSETS}-0`);
  return readdirSync(partition)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(partition, f)).size, 0);
}

/** After opening: every partition's committed offset is the last one committed. */
async function check(broker: Broker, records: number): Promise<void> {
  const group = broker.group(GROUP);
  for (let p = 0; p < PARTITIONS; p++) {
    const committed = await group.committed({ topic: TOPIC, partition: p });
    if (committed !== records / PARTITIONS - 1) throw new Error(`partition ${p}: committed ${committed}, expected ${records / PARTITIONS - 1}`);
  }
}

function openCase(records: number, compacted: boolean, baseline: boolean): Case {
  return {
    name: compacted
      ? `Broker.open after one cleaning pass (${records.toLocaleString('en')} offset commits made)`
      : `Broker.open, ${records.toLocaleString('en')} offset commits, not compacted (full replay) [baseline]`,
    messages: 1,
    kind: 'duration',
    system: 'kafkalite',
    baseline,
    async prepare() {
      const b = await buildOffsets(records);
      let dir = b.dir;
      if (compacted) {
        if (b.compacted === undefined) {
          const copy = copyOf(b.dir);
          const broker = await Broker.open({ storage: new FileStorage({ dir: copy, fsync: 'never' }) });
          await broker.topic(OFFSETS).compact();
          await broker.close();
          b.compacted = copy;
        }
        dir = b.compacted;
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
          await check(broker!, records);
          await broker!.close();
        },
      };
    },
  };
}

function cleanerCase(records: number): Case {
  const bytes = (records / PARTITIONS) * commitBatchBytes();
  return {
    name: `one cleaning pass of ${OFFSETS} (${(bytes / 2 ** 20).toFixed(0)} MiB, ${records.toLocaleString('en')} commits; MB/s of log)`,
    messages: records,
    bytes,
    system: 'kafkalite',
    async prepare() {
      const b = await buildOffsets(records);
      if (logBytes(b.dir) !== bytes) throw new Error(`the offsets log holds ${logBytes(b.dir)} bytes, not the ${bytes} this row reports`);
      const dir = copyOf(b.dir);
      const broker = await Broker.open({ storage: new FileStorage({ dir, fsync: 'never' }) });
      return {
        async run() {
          await broker.topic(OFFSETS).compact();
        },
        async finish() {
          const after = logBytes(dir);
          if (after > bytes / 50) throw new Error(`the pass kept ${after} of ${bytes} bytes`);
          await check(broker, records);
          await broker.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export const compaction: Scenario = {
  name: 'compaction',
  description: '__consumer_offsets after 1M commits over 20 partitions: reopen before and after a cleaning pass, cleaner MB/s',
  cases(settings) {
    const records = Math.max(PARTITIONS, Math.floor(settings.messages / PARTITIONS) * PARTITIONS);
    return [openCase(records, false, true), cleanerCase(records), openCase(records, true, false)];
  },
};
