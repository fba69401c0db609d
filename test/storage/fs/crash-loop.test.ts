/**
 * The crash loop: a child process produces (fsync 'always', then 'never') and is killed with SIGKILL at a
 * random moment; the parent reopens the folder and checks that every acknowledged record is
 * there at its offset, offsets are contiguous, and the log takes appends again. Trials share one
 * folder, so each also recovers what the previous crash left (a stale lock, torn tails).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { crashChild, random } from './child-crash.js';

const CHILD = fileURLToPath(new URL('../../fixtures/crash-producer.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../../dist/index.js', import.meta.url));
const TRIALS = Number(process.env.KAFKALITE_CRASH_TRIALS ?? 50);
/** A process crash (not a power cut) must lose nothing whatever the fsync mode: 'never' runs too. */
const NEVER_TRIALS = Number(process.env.KAFKALITE_CRASH_NEVER_TRIALS ?? 20);

interface Ack {
  partition: number;
  offset: number;
  value: string;
}

/** Runs the child until it acknowledged `killAfter` sends (or `maxMs` passed), then SIGKILLs it. */
function crashProducer(dir: string, prefix: string, killAfter: number, maxMs: number, fsync: 'always' | 'never'): Promise<Ack[]> {
  const parse = (line: string): Ack => {
    const [p, o, value] = line.split(' ');
    return { partition: Number(p), offset: Number(o), value: value! };
  };
  return crashChild(CHILD, [dir, prefix, '4', fsync], parse, killAfter, maxMs);
}

describe.each([
  ['always', TRIALS],
  ['never', NEVER_TRIALS],
] as const)("crash loop (SIGKILL while producing with fsync '%s')", (fsync, trials) => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it(`never loses an acknowledged record over ${trials} crashes`, async () => {
    expect(existsSync(DIST), 'dist/index.js is missing: npm test builds it first (npm run build)').toBe(true);
    dir = await mkdtemp(join(tmpdir(), `kafkalite-crash-${fsync}-`));
    const seed = Number(process.env.KAFKALITE_CRASH_SEED ?? 20261123);
    const rand = random(seed);
    const acked = new Map<string, Ack>();
    let totalAcks = 0;
    for (let trial = 0; trial < trials; trial++) {
      const acks = await crashProducer(dir, `t${trial}`, 1 + Math.floor(rand() * 80), 5 + Math.floor(rand() * 60), fsync);
      totalAcks += acks.length;
      for (const a of acks) acked.set(a.value, a);

      const broker = await Broker.open({ storage: new FileStorage({ dir }) });
      try {
        const topic = broker.topic('crash');
        const seen = new Map<string, { partition: number; offset: number }>();
        for (const p of topic.partitions) {
          let next = p.logStartOffset;
          for (;;) {
            const records = await p.read(next, { maxRecords: 5000 });
            if (records.length === 0) break;
            for (const r of records) {
              expect(r.offset, `trial ${trial} (seed ${seed}): offsets of crash-${p.id} are contiguous`).toBe(next);
              seen.set(r.value!.toString(), { partition: p.id, offset: r.offset });
              next = r.offset + 1;
            }
          }
          expect(next).toBe(p.logEndOffset);
        }
        for (const a of acked.values()) {
          expect(seen.get(a.value), `trial ${trial} (seed ${seed}): acknowledged ${a.value} at ${a.partition}/${a.offset}`).toEqual({
            partition: a.partition,
            offset: a.offset,
          });
        }
        const [meta] = await broker.producer().send({ topic: 'crash', messages: [{ value: `after-${trial}`, partition: 0 }] });
        const [back] = await topic.partition(0).read(meta!.baseOffset, { maxRecords: 1 });
        expect(back!.value!.toString()).toBe(`after-${trial}`);
        acked.set(`after-${trial}`, { partition: 0, offset: meta!.baseOffset, value: `after-${trial}` });
      } finally {
        await broker.close();
      }
    }
    expect(totalAcks).toBeGreaterThan(trials);
  }, 180_000);
});
