/**
 * SQLite-style I/O-error tests for FileStorage: for k = 1, 2, 3, … the k-th file-system call
 * (write, fsync, open, rename, truncate) fails with ENOSPC or EIO — once, or from then on until
 * the disk "comes back" — and the storage must (a) reject exactly what it did not store, with
 * STORAGE_IO, (b) keep serving what it acknowledged, (c) take appends again once the fault
 * clears, and (d) find every acknowledged batch after a reopen. The loop ends at the first k
 * where no fault was hit (every call of the scenario has been failed once).
 *
 * What FileLog promises for a rejected append (file-log.ts #drain): "Nothing of this round (or
 * queued after it) is acknowledged: take the log back to before it, so the next append continues
 * from the last good offset" — the in-memory end goes back to the round's first offset and the
 * active segment is truncated to what was acknowledged ("recovery on the next open cuts a torn
 * tail anyway" if that truncation fails). So the tests require: after a rejection the log reads
 * exactly the acknowledged batches and ends at the last acknowledged offset; after a reopen the
 * acknowledged batches are there in order, followed by nothing or by batches that were rejected
 * (byte for byte) — a rejected batch whose bytes reached the file before the fault (the fsync
 * after the write failed) is not promised to be gone after a crash or reopen, only never to be
 * acknowledged and never to be confused with a later batch at the same offsets.
 */
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStorage, KafkaliteError, batchLastOffset, type PartitionLog, type StoredTopic } from 'kafkalite';
import { ALL, expectBatches, makeBatch, removeAll, tempDir, topicConfig, type BatchSpec } from './fs-helpers.js';
import { faultyFs, nodeError, type FaultCode, type FaultPlan, type FaultyFs, type FaultyOp } from './faulty-fs.js';

const APPENDS = 6;
const MAX_K = 200;
const TOPIC: StoredTopic = { name: 't', partitions: 1, config: topicConfig(1) };

/** Every batch a little different, so a batch retried at the same offset has other bytes. */
const specOf = (i: number): BatchSpec => ({ records: 1 + (i % 3), valueSize: 16 + 5 * i, headers: i % 2 === 1 });

const fdCount = (): number => nodeFs.readdirSync('/proc/self/fd').length;

const describeError = (error: unknown): string =>
  error instanceof KafkaliteError ? `KafkaliteError ${error.code}: ${error.message}` : `${String(error)}${error instanceof Error && error.stack !== undefined ? `\n${error.stack.split('\n').slice(1, 4).join('\n')}` : ''}`;

const hitsOf = (ffs: FaultyFs): string =>
  ffs.hits
    .slice(0, 2)
    .map((h) => `${h.op}#${h.call}${h.path === undefined ? '' : ` ${h.path.split('/').pop()}`}`)
    .join(', ') + (ffs.hits.length > 2 ? `, … ${ffs.hits.length - 2} more` : '');

function isStorageIo(error: unknown): boolean {
  return error instanceof KafkaliteError && error.code === 'STORAGE_IO';
}

/** Compares batches without throwing: a description of the first difference, or undefined. */
function diffBatches(actual: Uint8Array[], expected: Uint8Array[]): string | undefined {
  try {
    expectBatches(actual, expected);
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

function newStorage(dir: string, ffs: FaultyFs, fsync: 'always' | 'never' = 'always'): FileStorage {
  return new FileStorage({ dir, fs: ffs.fs, fsync, checkpointIntervalMs: 1_000_000_000 });
}

/** Reopens `dir` without faults and checks that `acked` are there in order, then that an append works. */
async function reopenAndCheck(dir: string, ffs: FaultyFs, acked: Buffer[], rejected: Buffer[], problems: string[]): Promise<void> {
  const storage = newStorage(dir, ffs);
  let topics: StoredTopic[];
  try {
    topics = await storage.open();
  } catch (error) {
    problems.push(`reopen without faults failed: ${describeError(error)}`);
    return;
  }
  try {
    if (!topics.some((t) => t.name === TOPIC.name)) {
      if (acked.length > 0) problems.push(`after reopen topic ${TOPIC.name} is gone though ${acked.length} appends to it were acknowledged`);
      await storage.saveTopic(TOPIC);
    }
    const log = storage.log(TOPIC.name, 0);
    const ackedEnd = acked.length === 0 ? 0 : batchLastOffset(acked[acked.length - 1]!) + 1;
    const all = await log.read(0, ALL);
    const head = diffBatches(all.slice(0, acked.length), acked);
    if (head !== undefined) problems.push(`after reopen the acknowledged batches are not all there: ${head}`);
    for (const extra of all.slice(acked.length)) {
      if (!rejected.some((r) => Buffer.compare(Buffer.from(extra), r) === 0)) problems.push(`after reopen a batch at offset ${batchLastOffset(extra)} that was never appended`);
    }
    if (log.logEndOffset < ackedEnd) problems.push(`after reopen logEndOffset ${log.logEndOffset} < acknowledged end ${ackedEnd}`);
    const next = makeBatch(log.logEndOffset, specOf(99));
    const copy = Buffer.from(next);
    await log.append(next);
    const tail = await log.read(batchLastOffset(copy), ALL);
    const d = diffBatches(tail, [copy]);
    if (d !== undefined) problems.push(`after reopen an append is not read back: ${d}`);
  } catch (error) {
    problems.push(`after reopen: ${describeError(error)}`);
  } finally {
    await storage.close().catch((error: unknown) => problems.push(`closing the reopened storage failed: ${describeError(error)}`));
  }
}

function checkNoOpenFds(ffs: FaultyFs, problems: string[], when: string): void {
  if (ffs.openFds.size > 0) problems.push(`${when}: descriptors opened by the storage still open: ${[...ffs.openFds.values()].map((p) => p.split('/').pop()).join(', ')}`);
}

interface AttemptResult {
  hit: boolean;
  hits: string;
  problems: string[];
  setupError: boolean;
  rejectedAppends: number;
}

/** One step of the loop: a fresh storage whose `nth` matching call fails. */
async function attempt(dirs: string[], plan: FaultPlan): Promise<AttemptResult> {
  const dir = tempDir('faults');
  dirs.push(dir);
  const ffs = faultyFs(nodeFs);
  const problems: string[] = [];
  const acked: Buffer[] = [];
  const rejected: Buffer[] = [];
  let ackedEnd = 0;
  ffs.arm(plan);
  const storage = newStorage(dir, ffs);

  // Open and save the topic under the fault: a failure there must be a KafkaliteError.
  let setupError = false;
  let opened = false;
  try {
    await storage.open();
    opened = true;
    await storage.saveTopic(TOPIC);
  } catch (error) {
    setupError = true;
    if (!(error instanceof KafkaliteError)) problems.push(`${opened ? 'saveTopic' : 'open'} failed with something other than a KafkaliteError: ${describeError(error)}`);
    else if (error.code !== 'STORAGE_IO') problems.push(`${opened ? 'saveTopic' : 'open'} failed with ${error.code}, not STORAGE_IO: ${error.message}`);
  }

  if (!setupError) {
    const log: PartitionLog = storage.log(TOPIC.name, 0);
    for (let i = 0; i < APPENDS; i++) {
      const batch = makeBatch(log.logEndOffset, specOf(i));
      const copy = Buffer.from(batch);
      try {
        await log.append(batch);
        acked.push(copy);
        ackedEnd = batchLastOffset(copy) + 1;
        if (log.logEndOffset !== ackedEnd) problems.push(`append ${i} resolved but logEndOffset is ${log.logEndOffset}, not ${ackedEnd}`);
      } catch (error) {
        rejected.push(copy);
        if (!isStorageIo(error)) problems.push(`append ${i} rejected with ${describeError(error)}, not STORAGE_IO`);
        if (log.logEndOffset !== ackedEnd) problems.push(`append ${i} rejected but logEndOffset is ${log.logEndOffset}, not the acknowledged end ${ackedEnd}`);
        try {
          const d = diffBatches(await log.read(0, ALL), acked);
          if (d !== undefined) problems.push(`after append ${i} rejected, the log does not read exactly the acknowledged batches: ${d}`);
        } catch (readError) {
          // While the disk keeps failing, a read that must open a file may fail too — not otherwise.
          if (!(plan.mode === 'forever' && isStorageIo(readError))) problems.push(`after append ${i} rejected, read failed: ${describeError(readError)}`);
        }
      }
    }
  }
  const hit = ffs.hits.length > 0;
  ffs.clear();

  if (!setupError) {
    // (b) the fault cleared: the log reads what was acknowledged and takes appends again.
    const log = storage.log(TOPIC.name, 0);
    try {
      const d = diffBatches(await log.read(0, ALL), acked);
      if (d !== undefined) problems.push(`after the fault cleared, the log does not read exactly the acknowledged batches: ${d}`);
      if (log.logEndOffset !== ackedEnd) problems.push(`after the fault cleared, logEndOffset is ${log.logEndOffset}, not ${ackedEnd}`);
      const batch = makeBatch(log.logEndOffset, specOf(APPENDS));
      const copy = Buffer.from(batch);
      await log.append(batch);
      acked.push(copy);
      const d2 = diffBatches(await log.read(0, ALL), acked);
      if (d2 !== undefined) problems.push(`after the fault cleared, an append is not read back with the rest: ${d2}`);
    } catch (error) {
      problems.push(`after the fault cleared: ${describeError(error)}`);
    }
  }
  try {
    await storage.close();
  } catch (error) {
    problems.push(`close without faults failed: ${describeError(error)}`);
  }
  checkNoOpenFds(ffs, problems, 'after close');

  // (c) reopen without faults: every acknowledged batch is there.
  await reopenAndCheck(dir, ffs, acked, rejected, problems);
  checkNoOpenFds(ffs, problems, 'after the reopened storage closed');
  removeAll(dirs);
  return { hit, hits: hitsOf(ffs), problems, setupError, rejectedAppends: rejected.length };
}

interface LoopSummary {
  attempts: number;
  problems: string[];
  setupErrors: number;
  rejectedAppends: number;
}

async function faultLoop(code: FaultCode, mode: 'once' | 'forever', ops?: readonly FaultyOp[]): Promise<LoopSummary> {
  const dirs: string[] = [];
  const problems: string[] = [];
  let setupErrors = 0;
  let rejectedAppends = 0;
  let k = 1;
  try {
    for (; k <= MAX_K; k++) {
      const result = await attempt(dirs, { nth: k, code, mode, ...(ops === undefined ? {} : { ops }) });
      for (const p of result.problems) problems.push(`k=${k}: [${result.hits}] ${p}`);
      if (result.setupError) setupErrors++;
      rejectedAppends += result.rejectedAppends;
      if (!result.hit) break;
    }
  } finally {
    removeAll(dirs);
  }
  return { attempts: k, problems, setupErrors, rejectedAppends };
}

/** Problems grouped by message (with the k where each was seen), so a report stays short. */
function grouped(problems: string[]): string[] {
  const byText = new Map<string, string[]>();
  for (const p of problems) {
    const m = /^k=(\d+): ([^]*)$/.exec(p);
    const text = (m?.[2] ?? p).replace(/offset \d+|expected \d+|byte \d+|append \d+|#\d+/g, (w) => w.replace(/\d+/, 'N')).replace(/\/\S*kafkalite-[\w-]+-\w{6}/g, 'DIR').replace(/'\d+\.\.\d+ \(\d+ bytes\)'/g, 'B').replace(/…\(\d+\)/g, '…');
    byText.set(text, [...(byText.get(text) ?? []), m?.[1] ?? '?']);
  }
  return [...byText].map(([text, ks]) => `k=${ks.slice(0, 8).join(',')}${ks.length > 8 ? ',…' : ''}: ${text}`);
}

describe('FileStorage under I/O faults (SQLite-style loop)', () => {
  for (const code of ['ENOSPC', 'EIO'] as const) {
    for (const mode of ['once', 'forever'] as const) {
      it(`(file-log.ts #drain/#undoPartialWrite, lock.ts acquire) the k-th file-system call fails with ${code} ${mode === 'once' ? 'once' : 'until cleared'}: only acknowledged appends are kept, and all of them`, async () => {
        const summary = await faultLoop(code, mode);
        expect(summary.attempts, 'the loop reached an attempt with no fault hit').toBeLessThan(MAX_K);
        expect(summary.rejectedAppends, 'faults hit appends').toBeGreaterThan(0);
        expect(summary.setupErrors, 'faults hit open and saveTopic').toBeGreaterThan(0);
        expect(grouped(summary.problems)).toEqual([]);
      });
    }
  }

  it('(lock.ts acquire leaks the .lock descriptor when writing the pid fails) leaks no descriptors across the whole loop', async () => {
    // Warm up once so lazily opened process-wide descriptors do not count.
    await faultLoop('EIO', 'once', ['fdatasync']);
    const before = fdCount();
    for (const code of ['ENOSPC', 'EIO'] as const) for (const mode of ['once', 'forever'] as const) await faultLoop(code, mode);
    const after = fdCount();
    // Four loops: a descriptor leaked per loop shows as 4; allow 2 for the test runner's own.
    expect(after - before, `descriptors open before the loops ${before}, after ${after}`).toBeLessThanOrEqual(2);
  });
});

describe('a fault while topics.json is written', () => {
  const cases: { what: string; ops: FaultyOp[]; path?: RegExp }[] = [
    { what: 'opening topics.json.tmp', ops: ['openSync'], path: /topics\.json\.tmp$/ },
    { what: 'writing topics.json.tmp', ops: ['writeSync'], path: /topics\.json\.tmp$/ },
    { what: 'fsyncing topics.json.tmp', ops: ['fsyncSync'], path: /topics\.json\.tmp$/ },
    { what: 'renaming topics.json.tmp', ops: ['renameSync'], path: /topics\.json/ },
    { what: 'writing the new partition’s index files', ops: ['writeFileSync'] },
  ];
  for (const { what, ops, path } of cases) {
    for (const code of ['ENOSPC', 'EIO'] as const) {
      it(`${what} (${code}): saveTopic rejects with STORAGE_IO and the old topic set survives`, async () => {
        const dirs: string[] = [];
        const dir = tempDir('faults-topics');
        dirs.push(dir);
        try {
          const ffs = faultyFs(nodeFs);
          const storage = newStorage(dir, ffs);
          await storage.open();
          await storage.saveTopic(TOPIC);
          const batch = makeBatch(0, specOf(0));
          const copy = Buffer.from(batch);
          await storage.log(TOPIC.name, 0).append(batch);
          const before = nodeFs.readFileSync(join(dir, 'topics.json'), 'utf8');

          ffs.arm({ nth: 1, code, mode: 'once', ops, ...(path === undefined ? {} : { path }) });
          let error: unknown;
          await storage.saveTopic({ name: 'u', partitions: 2, config: topicConfig(2) }).catch((e: unknown) => (error = e));
          expect(ffs.hits.length, 'the fault was hit').toBe(1);
          ffs.clear();
          expect(isStorageIo(error), `saveTopic rejected with STORAGE_IO (got ${describeError(error)})`).toBe(true);
          expect(nodeFs.readFileSync(join(dir, 'topics.json'), 'utf8'), 'topics.json is untouched').toBe(before);

          await storage.close();
          expect(ffs.openFds.size, 'every descriptor closed').toBe(0);
          const reopened = newStorage(dir, ffs);
          const topics = await reopened.open();
          expect(topics.map((t) => t.name)).toEqual(['t']);
          expectBatches(await reopened.log('t', 0).read(0, ALL), [copy]);
          expect(nodeFs.existsSync(join(dir, 'u-0')), 'the half-made partition folder is removed').toBe(false);
          await reopened.close();
        } finally {
          removeAll(dirs);
        }
      });
    }
  }

  it('(fs-storage.ts saveTopic keeps a topic whose write failed in memory) a topic whose saveTopic rejected is not written out by a later saveTopic', async () => {
    const dirs: string[] = [];
    const dir = tempDir('faults-topics');
    dirs.push(dir);
    try {
      const ffs = faultyFs(nodeFs);
      const storage = newStorage(dir, ffs);
      await storage.open();
      await storage.saveTopic(TOPIC);
      ffs.arm({ nth: 1, code: 'EIO', mode: 'once', ops: ['renameSync'] });
      const error = await storage.saveTopic({ name: 'u', partitions: 1, config: topicConfig(1) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      ffs.clear();
      expect(isStorageIo(error), `saveTopic rejected with STORAGE_IO (got ${describeError(error)})`).toBe(true);
      await storage.saveTopic({ name: 'v', partitions: 1, config: topicConfig(1) });
      await storage.close();
      const reopened = newStorage(dir, ffs);
      const topics = await reopened.open();
      await reopened.close();
      expect(topics.map((t) => t.name).sort(), 'the failed topic "u" was never created').toEqual(['t', 'v']);
    } finally {
      removeAll(dirs);
    }
  });
});

describe('a fault during close()', () => {
  for (const code of ['ENOSPC', 'EIO'] as const) {
    it(`(fs-storage.ts close never releases the lock or descriptors when it fails) the k-th call of close() fails with ${code} (fsync 'never', so close does the final flush): close rejects with STORAGE_IO or completes, and a reopen finds every acknowledged batch`, async () => {
      const dirs: string[] = [];
      const problems: string[] = [];
      let flushFaultsReported = 0;
      let flushFaults = 0;
      let k = 1;
      const fdsBefore = fdCount();
      try {
        for (; k <= MAX_K; k++) {
          const dir = tempDir('faults-close');
          dirs.push(dir);
          const ffs = faultyFs(nodeFs);
          const storage = newStorage(dir, ffs, 'never');
          await storage.open();
          await storage.saveTopic(TOPIC);
          const log = storage.log(TOPIC.name, 0);
          const acked: Buffer[] = [];
          for (let i = 0; i < 4; i++) {
            const batch = makeBatch(log.logEndOffset, specOf(i));
            acked.push(Buffer.from(batch));
            await log.append(batch);
          }
          ffs.arm({ nth: k, code, mode: 'once' });
          let closeError: unknown;
          await storage.close().catch((e: unknown) => (closeError = e));
          const hits = [...ffs.hits];
          ffs.clear();
          const where = `k=${k} [${hitsOf(ffs)}]`;
          if (closeError !== undefined && !isStorageIo(closeError)) problems.push(`${where}: close rejected with ${describeError(closeError)}`);
          if (hits.some((h) => h.op === 'fdatasync')) {
            flushFaults++;
            if (closeError !== undefined) flushFaultsReported++;
            else problems.push(`${where}: the fsync of the final flush failed but close resolved`);
          }
          if (closeError !== undefined) {
            // The caller may retry close once the disk is back; it must then let go of everything.
            await storage.close().catch((e: unknown) => problems.push(`${where}: close retried without faults failed: ${describeError(e)}`));
          }
          checkNoOpenFds(ffs, problems, `${where}: after close`);
          const p: string[] = [];
          await reopenAndCheck(dir, ffs, acked, [], p);
          for (const m of p) problems.push(`${where}: ${m}`);
          removeAll(dirs);
          if (hits.length === 0) break;
        }
      } finally {
        removeAll(dirs);
      }
      expect(k, 'the loop reached an attempt with no fault hit').toBeLessThan(MAX_K);
      expect(flushFaults, 'faults hit the final flush').toBeGreaterThan(0);
      expect(problems).toEqual([]);
      expect(flushFaultsReported).toBe(flushFaults);
      expect(fdCount() - fdsBefore, 'descriptors leaked').toBeLessThanOrEqual(2);
    });
  }
});

describe('a fault while opening a folder closed cleanly', () => {
  for (const code of ['ENOSPC', 'EIO'] as const) {
    it(`(fs-storage.ts open: raw errors from the clean-shutdown marker removal; lock.ts descriptor leak) the k-th call of open() fails with ${code}: open rejects with STORAGE_IO or succeeds, and a reopen finds every batch`, async () => {
      const dirs: string[] = [];
      const problems: string[] = [];
      let k = 1;
      try {
        for (; k <= MAX_K; k++) {
          const dir = tempDir('faults-open');
          dirs.push(dir);
          const ffs = faultyFs(nodeFs);
          const setup = newStorage(dir, ffs);
          await setup.open();
          await setup.saveTopic(TOPIC);
          const acked: Buffer[] = [];
          for (let i = 0; i < 3; i++) {
            const batch = makeBatch(setup.log(TOPIC.name, 0).logEndOffset, specOf(i));
            acked.push(Buffer.from(batch));
            await setup.log(TOPIC.name, 0).append(batch);
          }
          await setup.close();

          ffs.arm({ nth: k, code, mode: 'once' });
          const storage = newStorage(dir, ffs);
          let openError: unknown;
          await storage.open().catch((e: unknown) => (openError = e));
          const hit = ffs.hits.length > 0;
          ffs.clear();
          const where = `k=${k} [${hitsOf(ffs)}]`;
          if (openError !== undefined) {
            if (!isStorageIo(openError)) problems.push(`${where}: open rejected with ${describeError(openError)}, not STORAGE_IO`);
          } else {
            const d = diffBatches(await storage.log(TOPIC.name, 0).read(0, ALL), acked);
            if (d !== undefined) problems.push(`${where}: opened under the fault, but the batches differ: ${d}`);
            await storage.close();
          }
          checkNoOpenFds(ffs, problems, `${where}: after the open`);
          const p: string[] = [];
          await reopenAndCheck(dir, ffs, acked, [], p);
          for (const m of p) problems.push(`${where}: ${m}`);
          removeAll(dirs);
          if (!hit) break;
        }
      } finally {
        removeAll(dirs);
      }
      expect(k).toBeLessThan(MAX_K);
      expect(problems).toEqual([]);
    });
  }
});

describe('a fault while a round rolls a segment', () => {
  for (const file of ['.log', '.index', '.timeindex', '.txnindex'] as const) {
    it(`(log-segment.ts create left the files it made when making ${file} failed) the round rejects, and the folder reopens to exactly the acknowledged batches`, async () => {
      const dirs: string[] = [];
      const dir = tempDir('faults-roll');
      dirs.push(dir);
      try {
        const ffs = faultyFs(nodeFs);
        const storage = newStorage(dir, ffs);
        await storage.open();
        await storage.saveTopic({ name: 't', partitions: 1, config: topicConfig(1, { segmentBytes: 1024 }) });
        const log = storage.log('t', 0);
        const spec: BatchSpec = { records: 2, valueSize: 150 }; // two fit in a 1024-byte segment, not three
        const acked = [makeBatch(0, spec)];
        await log.append(Buffer.from(acked[0]!));
        // One round of two batches: the first fits, the second rolls a segment, whose file fails.
        const second = makeBatch(2, spec);
        const third = makeBatch(4, spec);
        ffs.arm({ nth: 1, code: 'EIO', mode: 'once', ops: ['openSync'], path: new RegExp(`00000000000000000004\\${file}$`) });
        const results = await Promise.allSettled([log.append(Buffer.from(second)), log.append(Buffer.from(third))]);
        expect(ffs.hits.length, 'the fault was hit').toBe(1);
        ffs.clear();
        expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
        expect(log.logEndOffset).toBe(2);
        expect(nodeFs.readdirSync(join(dir, 't-0')).sort(), 'no file of the segment that was not made').toEqual([
          '00000000000000000000.index',
          '00000000000000000000.log',
          '00000000000000000000.timeindex',
          '00000000000000000000.txnindex',
        ]);
        // A batch of five records now covers offsets 2..6, past where the failed segment began.
        const next = makeBatch(2, { records: 5, valueSize: 20 });
        acked.push(Buffer.from(next));
        await log.append(next);
        await storage.close();

        const reopened = newStorage(dir, ffs);
        await reopened.open();
        expect(reopened.log('t', 0).logEndOffset).toBe(7);
        expectBatches(await reopened.log('t', 0).read(0, ALL), acked);
        await reopened.close();
      } finally {
        removeAll(dirs);
      }
    });
  }
});

describe('a fault while removing or listing folders', () => {
  it('(fs-storage.ts, file-log.ts: raw errors from rmSync and readdirSync) open, saveTopic and deleteTopic reject with STORAGE_IO', async () => {
    const dirs: string[] = [];
    const dir = tempDir('faults-rm');
    dirs.push(dir);
    try {
      let failing: 'rmSync' | 'readdirSync' | undefined;
      const fs = {
        ...nodeFs,
        rmSync: ((...args: Parameters<typeof nodeFs.rmSync>) => {
          if (failing === 'rmSync') throw nodeError('EIO', 'rmdir', String(args[0]));
          nodeFs.rmSync(...args);
        }) as typeof nodeFs.rmSync,
        readdirSync: ((...args: Parameters<typeof nodeFs.readdirSync>) => {
          if (failing === 'readdirSync') throw nodeError('EIO', 'scandir', String(args[0]));
          return nodeFs.readdirSync(...args);
        }) as typeof nodeFs.readdirSync,
      };
      const storage = new FileStorage({ dir, fs, fsync: 'never' });
      await storage.open();
      failing = 'rmSync';
      const saved = await storage.saveTopic(TOPIC).then(() => undefined, (e: unknown) => e);
      expect(isStorageIo(saved), `saveTopic: ${describeError(saved)}`).toBe(true);
      failing = undefined;
      await storage.saveTopic(TOPIC);
      failing = 'rmSync';
      const deleted = await storage.deleteTopic(TOPIC.name).then(() => undefined, (e: unknown) => e);
      expect(isStorageIo(deleted), `deleteTopic: ${describeError(deleted)}`).toBe(true);
      failing = undefined;
      await storage.close();
      failing = 'readdirSync';
      const reopened = new FileStorage({ dir, fs, fsync: 'never' });
      const opened = await reopened.open().then(() => undefined, (e: unknown) => e);
      expect(isStorageIo(opened), `open: ${describeError(opened)}`).toBe(true);
    } finally {
      removeAll(dirs);
    }
  });
});
