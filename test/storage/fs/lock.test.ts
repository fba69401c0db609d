/**
 * One broker per folder: a second open is STORAGE_LOCKED, in this process (also through
 * `Broker.open`, and through another path to the same folder) and from another process; a lock
 * left by a process killed with SIGKILL is taken over, and what it wrote is recovered.
 *
 * The child processes import the built package (`dist/index.js`): `npm test` builds it first.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, FileStorage, batchLastOffset, decodeRecordBatch } from 'kafkalite';
import { expectError } from '../../helpers.js';
import { ALL, append, openStorage, removeAll, tempDir } from './fs-helpers.js';

const DIST = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));

const dirs: string[] = [];
const open: { close(): Promise<void> }[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  removeAll(dirs);
});

function fresh(): string {
  const dir = tempDir('lock');
  dirs.push(dir);
  return dir;
}

/**
 * The child: opens a FileStorage on `dir` and prints one JSON line — `{ code }` of the error, or
 * `{ code: 'OPENED' }`. With `hold`, it then saves topic `t`, appends one batch of 3 records,
 * flushes, prints `{ code: 'HELD' }` and waits to be killed.
 */
const CHILD = `
import { pathToFileURL } from 'node:url';
const [dist, dir, mode] = process.argv.slice(1);
const { FileStorage, RecordBatchBuilder } = await import(pathToFileURL(dist).href);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const storage = new FileStorage({ dir });
try {
  await storage.open();
} catch (error) {
  say({ code: error.code ?? 'UNEXPECTED', message: String(error.message) });
  process.exit(0);
}
say({ code: 'OPENED', pid: process.pid });
if (mode === 'hold') {
  const config = { partitions: 1, retentionMs: -1, retentionBytes: -1, segmentBytes: 1073741824, cleanupPolicy: 'delete', maxMessageBytes: 1048576 };
  await storage.saveTopic({ name: 't', partitions: 1, config });
  const builder = new RecordBatchBuilder();
  for (let i = 0; i < 3; i++) builder.append(1000 + i, 'child-' + i, 'from the child ' + i);
  await storage.log('t', 0).append(builder.build());
  await storage.log('t', 0).flush();
  say({ code: 'HELD' });
  setInterval(() => {}, 1000);
} else {
  await storage.close();
}
`;

interface Line {
  code: string;
  message?: string;
  pid?: number;
}

/** Starts the child and resolves with it and a reader of its JSON lines. */
function child(dir: string, mode: 'report' | 'hold'): { proc: ChildProcessWithoutNullStreams; next: () => Promise<Line> } {
  expect(existsSync(DIST), `${DIST} is missing: build the package first (npm run build; npm test builds it before running vitest)`).toBe(true);
  const proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD, DIST, dir, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  const lines: Line[] = [];
  const waiting: ((line: Line) => void)[] = [];
  let buffered = '';
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    let cut: number;
    while ((cut = buffered.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffered.slice(0, cut)) as Line;
      buffered = buffered.slice(cut + 1);
      const w = waiting.shift();
      if (w !== undefined) w(line);
      else lines.push(line);
    }
  });
  const next = (): Promise<Line> =>
    new Promise((resolve, reject) => {
      const ready = lines.shift();
      if (ready !== undefined) return resolve(ready);
      const timer = setTimeout(() => reject(new Error(`the child said nothing in 10 s; stderr: ${stderr}`)), 10_000);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`the child exited (${code}) before saying anything; stderr: ${stderr}`));
      };
      proc.once('exit', onExit);
      waiting.push((line) => {
        clearTimeout(timer);
        proc.off('exit', onExit);
        resolve(line);
      });
    });
  return { proc, next };
}

function exited(proc: ChildProcessWithoutNullStreams): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

describe('in this process', () => {
  it('a second FileStorage on the folder is STORAGE_LOCKED until the first closes', async () => {
    const dir = fresh();
    const first = new FileStorage({ dir });
    await first.open();
    open.push(first);
    await expectError(() => new FileStorage({ dir }).open(), 'STORAGE_LOCKED', /held by another broker/);
    await expectError(() => first.open(), 'STORAGE_LOCKED');
    // Another spelling of the same folder is the same folder.
    const link = `${fresh()}-link`;
    symlinkSync(dir, link);
    dirs.push(link);
    await expectError(() => new FileStorage({ dir: link }).open(), 'STORAGE_LOCKED');
    await expectError(() => new FileStorage({ dir: join(dir, '.', '..', dir.split('/').at(-1)!) }).open(), 'STORAGE_LOCKED');
    expect(readFileSync(join(dir, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    await first.close();
    open.length = 0;
    expect(existsSync(join(dir, '.lock')), 'close removes the lock file').toBe(false);
    const second = new FileStorage({ dir });
    await second.open();
    open.push(second);
  });

  it('Broker.open on a held folder is STORAGE_LOCKED, and the holder keeps working', async () => {
    const dir = fresh();
    const broker = await Broker.open({ storage: new FileStorage({ dir }) });
    open.push(broker);
    await broker.createTopic('t', { partitions: 1 });
    await expectError(() => Broker.open({ storage: new FileStorage({ dir }) }), 'STORAGE_LOCKED');
    const [meta] = await broker.producer().send({ topic: 't', messages: [{ value: 'still mine' }] });
    expect(meta!.baseOffset).toBe(0);
    await broker.close();
    open.length = 0;
    const again = await Broker.open({ storage: new FileStorage({ dir }) });
    open.push(again);
    expect((await again.topic('t').partition(0).read(0)).map((r) => r.value?.toString())).toEqual(['still mine']);
  });

  it('takes over a lock file left by a process that no longer runs', async () => {
    const dir = fresh();
    const s = await openStorage(dir);
    await s.close();
    writeFileSync(join(dir, '.lock'), '2147483646\n'); // no such pid
    const again = await openStorage(dir);
    open.push(again);
    expect(readFileSync(join(dir, '.lock'), 'utf8').trim()).toBe(String(process.pid));
  });
});

describe('across processes', () => {
  it('a child process gets STORAGE_LOCKED while this process holds the folder', async () => {
    const dir = fresh();
    const held = await openStorage(dir);
    open.push(held);
    const { proc, next } = child(dir, 'report');
    const line = await next();
    expect(line.code, line.message).toBe('STORAGE_LOCKED');
    await exited(proc);
    // Still ours.
    expect(readFileSync(join(dir, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    await append(held.log('t', 0), { records: 1, valueSize: 1 });
  });

  it('a child that opened the folder locks this process out; once SIGKILLed, its stale lock is taken over and its data recovered', async () => {
    const dir = fresh();
    const { proc, next } = child(dir, 'hold');
    const opened = await next();
    expect(opened.code, opened.message).toBe('OPENED');
    expect((await next()).code).toBe('HELD');
    expect(readFileSync(join(dir, '.lock'), 'utf8').trim()).toBe(String(proc.pid));

    await expectError(() => new FileStorage({ dir }).open(), 'STORAGE_LOCKED');
    await expectError(() => Broker.open({ storage: new FileStorage({ dir }) }), 'STORAGE_LOCKED');

    proc.kill('SIGKILL');
    await exited(proc);
    expect(proc.signalCode).toBe('SIGKILL');
    expect(existsSync(join(dir, '.lock')), 'the killed child left its lock file').toBe(true);
    expect(existsSync(join(dir, '.kafka_cleanshutdown')), 'and no clean-shutdown marker').toBe(false);

    const storage = new FileStorage({ dir });
    const topics = await storage.open();
    open.push(storage);
    expect(topics.map((t) => t.name)).toEqual(['t']);
    const batches = await storage.log('t', 0).read(0, ALL);
    expect(batches).toHaveLength(1);
    expect(batchLastOffset(batches[0]!)).toBe(2);
    expect(decodeRecordBatch(batches[0]!).records.map((r) => r.value?.toString())).toEqual(['from the child 0', 'from the child 1', 'from the child 2']);
    expect(readFileSync(join(dir, '.lock'), 'utf8').trim()).toBe(String(process.pid));
    await append(storage.log('t', 0), { records: 2, valueSize: 4 });
    expect(storage.log('t', 0).logEndOffset).toBe(5);
  });
});
