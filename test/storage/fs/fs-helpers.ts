/**
 * Shared helpers for the FileStorage tests: seeded randomness, batches as a partition hands them
 * over, a crash simulated in-process by copying the folder of a storage that is still open, and
 * readers for the segment files on disk.
 */
import { accessSync, constants, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { FileStorage, KafkaliteError, SystemClock, RecordBatchBuilder, batchBaseOffset, batchLastOffset, type FileStorageOptions, type PartitionLog, type ResolvedTopicConfig } from 'kafkalite';
import { setBatchBaseOffset } from '../../../src/codec/record-batch.js';

/** Large enough to mean "everything" in a read. */
export const ALL = 0x7fffffff;

/** A small seeded PRNG (mulberry32): the same seed gives the same run. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi], both included. */
export function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

export interface BatchSpec {
  records: number;
  valueSize: number;
  headers?: boolean;
  nullKey?: boolean;
}

/** The bytes of every record value: a function of offset and index, so any corruption shows. */
export function valueOf(offset: number, size: number): Buffer {
  const v = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) v[j] = (offset * 131 + j * 7 + (j >> 8)) & 0xff;
  return v;
}

export const keyOf = (offset: number): string => `key-${offset}`;
export const timestampOf = (offset: number): number => 1_700_000_000_000 + offset * 10;

/** A batch as the partition hands it over: offsets from `baseOffset`, in its own buffer. */
export function makeBatch(baseOffset: number, spec: BatchSpec): Buffer {
  const builder = new RecordBatchBuilder(128);
  for (let i = 0; i < spec.records; i++) {
    const offset = baseOffset + i;
    builder.append(
      timestampOf(offset),
      spec.nullKey === true ? null : keyOf(offset),
      valueOf(offset, spec.valueSize),
      spec.headers === true ? { h: `v${offset}`, empty: '' } : undefined,
    );
  }
  const batch = Buffer.from(builder.build());
  setBatchBaseOffset(batch, baseOffset);
  return batch;
}

export function randomSpec(r: () => number, maxRecords = 8, maxValue = 300): BatchSpec {
  return { records: int(r, 1, maxRecords), valueSize: int(r, 0, maxValue), headers: r() < 0.3, nullKey: r() < 0.1 };
}

/** Appends a batch at the log's end and returns a private copy of its bytes. */
export async function append(log: PartitionLog, spec: BatchSpec): Promise<Buffer> {
  const batch = makeBatch(log.logEndOffset, spec);
  const copy = Buffer.from(batch);
  await log.append(batch);
  return copy;
}

export function topicConfig(partitions: number, overrides: Partial<ResolvedTopicConfig> = {}): ResolvedTopicConfig {
  return {
    partitions,
    retentionMs: -1,
    retentionBytes: -1,
    segmentBytes: 1_073_741_824,
    cleanupPolicy: 'delete',
    maxMessageBytes: 1_048_576,
  deleteRetentionMs: 86_400_000,
  minCleanableDirtyRatio: 0.5,
    ...overrides,
  };
}

/**
 * Where test folders go: tmpfs when there is one (`/dev/shm` on Linux), so the thousands of
 * fsyncs these tests make cost nothing — crashes are simulated by copying, not by the kernel.
 */
const TEST_ROOT = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
})();

export function tempDir(prefix: string): string {
  return mkdtempSync(join(TEST_ROOT, `kafkalite-${prefix}-`));
}

/** Opens a FileStorage on `dir` (new or existing) and saves topic `t` if it is not there. */
const nothing = (): void => undefined;
const quiet = { debug: nothing, info: nothing, warn: nothing, error: nothing };

export async function openStorage(
  dir: string,
  options: Omit<FileStorageOptions, 'dir'> = {},
  config: Partial<ResolvedTopicConfig> = {},
  topic = 't',
): Promise<FileStorage> {
  const storage = new FileStorage({ dir, fsync: 'never', checkpointIntervalMs: 1_000_000_000, ...options });
  const topics = await storage.open({ clock: new SystemClock(), logger: quiet }); // tests that cut tails check the warning elsewhere
  if (!topics.some((t) => t.name === topic)) await storage.saveTopic({ name: topic, partitions: config.partitions ?? 1, config: topicConfig(config.partitions ?? 1, config) });
  return storage;
}

/**
 * A crash, simulated in-process: a copy of the folder of a storage that is still open (so no
 * clean-shutdown marker, a stale `.lock` naming this process). Flush the logs first so the bytes
 * are in the files. The copy is a different folder, so the in-process lock registry ignores it.
 */
export function crashCopy(dir: string): string {
  const copy = tempDir('crash');
  cpSync(dir, copy, { recursive: true });
  expect(existsSync(join(copy, '.kafka_cleanshutdown')), 'a crash copy has no clean-shutdown marker').toBe(false);
  return copy;
}

/** Writes Kafka's recovery-point-offset-checkpoint with these `topic partition offset` lines. */
export function writeCheckpoint(dir: string, entries: [string, number, number][]): void {
  const lines = entries.map(([t, p, o]) => `${t} ${p} ${o}`);
  writeFileSync(join(dir, 'recovery-point-offset-checkpoint'), `0\n${lines.length}\n${lines.join('\n')}\n`);
}

export function removeCheckpoint(dir: string): void {
  rmSync(join(dir, 'recovery-point-offset-checkpoint'), { force: true });
}

export interface SegmentFiles {
  base: number;
  log: string;
  index: string;
  timeindex: string;
}

/** The segments of a partition folder, by base offset. */
export function segments(partitionDir: string): SegmentFiles[] {
  return readdirSync(partitionDir)
    .filter((n) => /^\d{20}\.log$/.test(n))
    .map((n) => {
      const stem = join(partitionDir, n.slice(0, -4));
      return { base: Number(n.slice(0, 20)), log: `${stem}.log`, index: `${stem}.index`, timeindex: `${stem}.timeindex` };
    })
    .sort((a, b) => a.base - b.base);
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/** Splits the bytes of a `.log` file into its batches (each `batchLength + 12` bytes). */
export function splitBatches(bytes: Buffer): { position: number; batch: Buffer }[] {
  const out: { position: number; batch: Buffer }[] = [];
  let at = 0;
  while (at < bytes.length) {
    expect(bytes.length - at, `a whole batch header at byte ${at}`).toBeGreaterThanOrEqual(61);
    const size = bytes.readInt32BE(at + 8) + 12;
    expect(at + size, `the batch at byte ${at} ends inside the file`).toBeLessThanOrEqual(bytes.length);
    out.push({ position: at, batch: bytes.subarray(at, at + size) });
    at += size;
  }
  return out;
}

/** Where each appended batch lies on disk: its segment and byte position there. */
export interface Placed {
  batch: Buffer;
  segment: SegmentFiles;
  position: number;
}

/** Maps `batches` (in offset order) onto the segment files of `partitionDir`, checking the bytes. */
export function place(partitionDir: string, batches: Buffer[]): Placed[] {
  const segs = segments(partitionDir);
  const out: Placed[] = [];
  let i = 0;
  for (const seg of segs) {
    const onDisk = splitBatches(readFileSync(seg.log));
    for (const { position, batch } of onDisk) {
      const expected = batches[i];
      expect(expected, `batch ${i} in ${basename(seg.log)}`).toBeDefined();
      expect(Buffer.compare(batch, expected!), `bytes of batch ${i} on disk`).toBe(0);
      out.push({ batch: expected!, segment: seg, position });
      i++;
    }
  }
  expect(i, 'every appended batch is on disk').toBe(batches.length);
  return out;
}

/** Every batch from `from` to the log end, read on where a read stops early (damage stops a read; the next read from there reports it). */
export async function readAll(log: PartitionLog, from = 0): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let next = from;
  while (next < log.logEndOffset) {
    const batches = await log.read(next, ALL);
    if (batches.length === 0) break;
    out.push(...batches);
    next = batchLastOffset(batches[batches.length - 1]!) + 1;
  }
  return out;
}

const describeBatches = (batches: Uint8Array[]): string[] => batches.map((b) => `${batchBaseOffset(b)}..${batchLastOffset(b)} (${b.length} bytes)`);

/** Asserts that `actual` are exactly the bytes of `expected`, batch for batch. */
export function expectBatches(actual: Uint8Array[], expected: Uint8Array[], what = 'batches'): void {
  expect(describeBatches(actual), what).toEqual(describeBatches(expected));
  for (let i = 0; i < expected.length; i++) expect(Buffer.compare(actual[i]!, expected[i]!), `${what}: bytes of batch ${i}`).toBe(0);
}

/** What `read(offset, maxBytes)` must return from a log holding `batches` (Kafka's rule). */
export function modelRead(batches: Buffer[], offset: number, maxBytes: number): Buffer[] {
  const i = batches.findIndex((b) => batchLastOffset(b) >= offset);
  if (i < 0) return [];
  const out: Buffer[] = [];
  let bytes = 0;
  for (let k = i; k < batches.length; k++) {
    const b = batches[k]!;
    if (out.length > 0 && bytes + b.length > maxBytes) break;
    out.push(b);
    bytes += b.length;
    if (bytes >= maxBytes) break;
  }
  return out;
}

/** The KafkaliteError `promise` rejects with (fails the test if it resolves or throws something else). */
export async function rejection(fn: () => unknown): Promise<KafkaliteError> {
  let caught: unknown;
  let value: unknown;
  try {
    value = await fn();
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) {
    const shown = Array.isArray(value) ? `${value.length} batches: ${describeBatches(value as Uint8Array[]).join(', ')}` : String(value);
    expect.fail(`expected a KafkaliteError, but it resolved with ${shown}`);
  }
  expect(caught, `expected a KafkaliteError, got ${String(caught)}`).toBeInstanceOf(KafkaliteError);
  return caught as KafkaliteError;
}

/** Flips bit `bit` of the byte at `position` of `path`. */
export function flipBit(path: string, position: number, bit: number): void {
  const bytes = readFileSync(path);
  bytes[position] = bytes[position]! ^ (1 << bit);
  writeFileSync(path, bytes);
}

/** Removes folders made by a test (ignoring errors). */
export function removeAll(dirs: string[]): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Temp folders and open storages of one test file, closed and removed after each test. */
export function useStorages(): {
  dirs: string[];
  track(storage: Promise<FileStorage>): Promise<FileStorage>;
  closeAll(): Promise<void>;
} {
  const dirs: string[] = [];
  const open: FileStorage[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
    removeAll(dirs);
  });
  return {
    dirs,
    async track(storage) {
      const s = await storage;
      open.push(s);
      return s;
    },
    async closeAll() {
      for (const s of open.splice(0)) await s.close();
    },
  };
}
