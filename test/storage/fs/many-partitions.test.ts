/**
 * Thousands of partitions within a small descriptor budget: 2000 partition logs of one topic with
 * `maxOpenFiles: 64`, one batch each, read back, reopened and read again — without EMFILE, also
 * when the appends and reads run concurrently (as a produce to every partition does).
 */
import { spawn } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStorage, KafkaliteError, batchBaseOffset } from 'kafkalite';
import type { FileSystem } from '../../../src/storage/fs/file-system.js';
import { ALL, expectBatches, makeBatch, removeAll, tempDir, topicConfig } from './fs-helpers.js';

const DIST = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));
const PARTITIONS = 2000;
const MAX_OPEN = 64;

const dirs: string[] = [];
const open: FileStorage[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  removeAll(dirs);
});

const FD_DIR = existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
const openFds = (): number => readdirSync(FD_DIR).length;

/** Batch of partition `p`: 2 records whose values name the partition. */
const batchOf = (p: number): Buffer => makeBatch(0, { records: 2, valueSize: 8 + (p % 50) });

async function openMany(dir: string): Promise<FileStorage> {
  const storage = new FileStorage({ dir, maxOpenFiles: MAX_OPEN, fsync: 'never' });
  const topics = await storage.open();
  if (topics.length === 0) await storage.saveTopic({ name: 'm', partitions: PARTITIONS, config: topicConfig(PARTITIONS) });
  open.push(storage);
  return storage;
}

describe(`${PARTITIONS} partitions, maxOpenFiles ${MAX_OPEN}`, () => {
  it('appends one batch to each, reads them back, reopens and reads again (one at a time)', async () => {
    const dir = tempDir('many');
    dirs.push(dir);
    const baseline = openFds();
    const storage = await openMany(dir);
    for (let p = 0; p < PARTITIONS; p++) await storage.log('m', p).append(batchOf(p));
    await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => storage.log('m', p).flush()));
    for (let p = 0; p < PARTITIONS; p++) expectBatches(await storage.log('m', p).read(0, ALL), [batchOf(p)], `m-${p}`);
    // Evicted descriptors may be closed asynchronously: give them up to a second.
    for (let i = 0; i < 50 && openFds() - baseline > MAX_OPEN + 8; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFds() - baseline, 'descriptors left open').toBeLessThanOrEqual(MAX_OPEN + 8);
    await storage.close();
    open.length = 0;

    const again = await openMany(dir);
    for (let p = PARTITIONS - 1; p >= 0; p--) {
      const log = again.log('m', p);
      expect(log.logEndOffset).toBe(2);
      expectBatches(await log.read(0, ALL), [batchOf(p)], `m-${p} after reopening`);
    }
    await again.log('m', 1999).append(makeBatch(2, { records: 1, valueSize: 1 }));
    expect(batchBaseOffset((await again.log('m', 1999).read(2, ALL))[0]!)).toBe(2);
  }, 60_000);

  it('keeps within maxOpenFiles (plus a few) while appends and reads to every partition run at once', async () => {
    const dir = tempDir('many-par');
    dirs.push(dir);
    const baseline = openFds();
    const storage = await openMany(dir);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, openFds() - baseline)), 0);
    try {
      await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => storage.log('m', p).append(batchOf(p))));
      const all = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => storage.log('m', p).read(0, ALL)));
      all.forEach((got, p) => expectBatches(got, [batchOf(p)], `m-${p}`));
    } finally {
      clearInterval(sampler);
    }
    // Pinned ones (at most maxOpenFiles) plus idle cached ones (at most maxOpenFiles), plus a few
    // outside the cache (folder fsyncs, the lock file).
    expect(peak, `descriptors open at once (maxOpenFiles ${MAX_OPEN})`).toBeLessThanOrEqual(2 * MAX_OPEN + 8);
  }, 60_000);

  it('works under a process descriptor limit of 256 with concurrent appends and reads (child process)', async () => {
    expect(existsSync(DIST), `${DIST} is missing: build the package first (npm run build; npm test builds it before running vitest)`).toBe(true);
    const dir = tempDir('many-ulimit');
    dirs.push(dir);
    const code = `
import { pathToFileURL } from 'node:url';
const [dist, dir] = process.argv.slice(1);
const { FileStorage, RecordBatchBuilder } = await import(pathToFileURL(dist).href);
const say = (o) => { process.stdout.write(JSON.stringify(o) + '\\n'); };
process.on('unhandledRejection', (e) => { say({ ok: false, phase: 'unhandled rejection', error: String(e && e.message) }); process.exit(3); });
process.on('uncaughtException', (e) => { say({ ok: false, phase: 'uncaught exception', error: String(e && e.message) }); process.exit(3); });
const N = ${PARTITIONS};
const config = { partitions: N, retentionMs: -1, retentionBytes: -1, segmentBytes: 1073741824, cleanupPolicy: 'delete', maxMessageBytes: 1048576 };
const batch = (p) => { const b = new RecordBatchBuilder(); b.append(1, 'k' + p, 'v' + p); return b.build(); };
let phase = 'open';
try {
  let s = new FileStorage({ dir, maxOpenFiles: ${MAX_OPEN} });
  await s.open();
  await s.saveTopic({ name: 'm', partitions: N, config });
  phase = 'append';
  await Promise.all(Array.from({ length: N }, (_, p) => s.log('m', p).append(batch(p))));
  phase = 'read';
  let reads = await Promise.all(Array.from({ length: N }, (_, p) => s.log('m', p).read(0, 1e9)));
  if (!reads.every((r) => r.length === 1)) throw new Error('a read came back wrong');
  phase = 'close';
  await s.close();
  phase = 'reopen';
  s = new FileStorage({ dir, maxOpenFiles: ${MAX_OPEN} });
  await s.open();
  phase = 'read after reopen';
  reads = await Promise.all(Array.from({ length: N }, (_, p) => s.log('m', p).read(0, 1e9)));
  if (!reads.every((r) => r.length === 1)) throw new Error('a read came back wrong');
  await s.close();
  say({ ok: true });
} catch (error) {
  say({ ok: false, phase, error: String(error && error.message) });
}
`;
    const result = await new Promise<{ out: string; err: string; status: number | null }>((resolve) => {
      const proc = spawn('sh', ['-c', 'ulimit -n 256 && exec "$0" --input-type=module -e "$1" "$2" "$3"', process.execPath, code, DIST, dir]);
      let out = '';
      let err = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
      proc.on('exit', (status) => resolve({ out, err, status }));
    });
    const line = result.out.trim().split('\n').at(-1) ?? '';
    expect(line, `child stderr: ${result.err.slice(0, 2000)}`).not.toBe('');
    expect(JSON.parse(line) as unknown).toEqual({ ok: true });
  }, 60_000);
});

describe('running out of descriptors', () => {
  it('an EMFILE while appending rejects that append (no hang, no unhandled rejection), and the log goes on', async () => {
    const dir = tempDir('emfile');
    dirs.push(dir);
    let failOpen = false;
    const openSync = ((path: nodeFs.PathLike, flags: nodeFs.OpenMode, mode?: nodeFs.Mode) => {
      if (failOpen && String(path).endsWith('.log')) throw Object.assign(new Error(`EMFILE: too many open files, open '${String(path)}'`), { code: 'EMFILE', errno: -24 });
      return nodeFs.openSync(path, flags, mode);
    }) as typeof nodeFs.openSync;
    const fs: FileSystem = { ...nodeFs, openSync };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const storage = new FileStorage({ dir, fs, maxOpenFiles: 1, fsync: 'never' });
      await storage.open();
      open.push(storage);
      await storage.saveTopic({ name: 'm', partitions: 2, config: topicConfig(2) });
      await storage.log('m', 0).append(batchOf(0)); // p1's .log is no longer among the open descriptors
      failOpen = true;
      const outcome = await Promise.race([
        Promise.resolve(storage.log('m', 1).append(batchOf(1))).then(
          () => 'resolved',
          (error: unknown) => error,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still pending after 2 s'), 2000)),
      ]);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled.map(String), 'unhandled rejections').toEqual([]);
      expect(outcome, 'the append is rejected').toBeInstanceOf(KafkaliteError);
      expect((outcome as KafkaliteError).code).toBe('STORAGE_IO');
      failOpen = false;
      const log = storage.log('m', 1);
      expect(log.logEndOffset, 'the failed append is taken back').toBe(0);
      await log.append(batchOf(1));
      expectBatches(await log.read(0, ALL), [batchOf(1)]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
