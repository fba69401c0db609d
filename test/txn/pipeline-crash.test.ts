/**
 * Exactly once through crashes: a consume-transform-produce pipeline (test/fixtures/txn-pipeline.mjs)
 * runs in a child process on FileStorage, reading topic A and writing topic B inside transactions
 * with its consumer offsets, aborting at random; the parent kills it with SIGKILL at random
 * moments (mid-transaction, mid-commit, between transactions) and starts it again on the same
 * folder. At the end a read_committed reader of B must see every input's output exactly once, in
 * input order per key.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { tempDir } from '../storage/fs/fs-helpers.js';

const CHILD = fileURLToPath(new URL('../fixtures/txn-pipeline.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const KILLS = Number(process.env.KAFKALITE_TXN_KILLS ?? 50);
const SEED = Number(process.env.KAFKALITE_TXN_SEED ?? Date.now() % 100_000);
const INPUTS = Number(process.env.KAFKALITE_TXN_INPUTS ?? 60 * KILLS);
const KEYS = 12;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Runs the pipeline until it finished `commits` transactions, waits `delayMs` more, and kills
 * it; with `untilIdle`, once it has nothing left to read. Resolves with what it printed.
 */
function runChild(dir: string, seed: number, stop: { commits: number; delayMs: number } | 'untilIdle'): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, DIST, dir, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    let commits = 0;
    let killing = false;
    const kill = (delayMs: number): void => {
      if (killing) return;
      killing = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    const safety = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line === 'committed') commits++;
        if (stop === 'untilIdle') {
          if (line === 'idle') kill(0);
        } else if ((line === 'ready' && stop.commits === 0) || (line === 'committed' && commits >= stop.commits) || line === 'idle') {
          kill(stop.delayMs);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(safety);
      if (signal === 'SIGKILL' && killing) resolve(lines);
      else reject(new Error(`the pipeline exited with ${signal ?? code} (${lines.slice(-3).join(', ')}): ${stderr}`));
    });
  });
}

describe('consume-transform-produce through SIGKILL', () => {
  const dir = tempDir('txn-pipeline');
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it(`every input's output is read exactly once, in order per key, by a read_committed reader (${KILLS} kills, seed ${SEED})`, async () => {
    const r = random(SEED);
    let broker = await Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' });
    await broker.createTopic('A', { partitions: 2 });
    await broker.createTopic('B', { partitions: 2 });
    const input = broker.producer();
    const expected = new Map<string, string[]>();
    for (let i = 0; i < INPUTS; i += 500) {
      const messages = [];
      for (let n = i; n < Math.min(INPUTS, i + 500); n++) {
        const key = `k${n % KEYS}`;
        messages.push({ key, value: `${n}` });
        expected.set(key, [...(expected.get(key) ?? []), `out-${n}`]);
      }
      await input.send({ topic: 'A', messages });
    }
    await broker.close();

    let committed = 0;
    let aborted = 0;
    for (let k = 0; k < KILLS; k++) {
      const lines = await runChild(dir, Math.floor(r() * 2 ** 31), { commits: Math.floor(r() * 4), delayMs: Math.floor(r() * 15) });
      committed += lines.filter((l) => l === 'committed').length;
      aborted += lines.filter((l) => l === 'aborted').length;
    }
    await runChild(dir, Math.floor(r() * 2 ** 31), 'untilIdle');
    expect(committed).toBeGreaterThan(0);
    expect(aborted).toBeGreaterThan(0);

    broker = await Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' });
    const reader = broker.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest', maxPollRecords: 5000 });
    await reader.assign([
      { topic: 'B', partition: 0 },
      { topic: 'B', partition: 1 },
    ]);
    let done = false;
    const caughtUp = reader.caughtUp().then(() => (done = true));
    const seen = new Map<string, string[]>();
    while (!done) {
      for (const rec of await reader.poll({ timeoutMs: 20 })) {
        const key = rec.key!.toString();
        seen.set(key, [...(seen.get(key) ?? []), rec.value!.toString()]);
      }
    }
    await caughtUp;
    for (const [key, outputs] of expected) expect(seen.get(key), `outputs of key ${key}`).toEqual(outputs);
    expect([...seen.keys()].sort()).toEqual([...expected.keys()].sort());
    // B also holds the markers, and the records of aborted (and killed) transactions, which the reader skipped.
    const kept = broker.topic('B').partitions.reduce((n, p) => n + p.logEndOffset, 0);
    expect(kept).toBeGreaterThan(INPUTS + committed);
    await broker.close();
  }, 240_000);
});
