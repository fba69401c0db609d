/**
 * `hypercore` (11.x) as an append-only log on disk: `append` of 1000 blocks per call, up to 4
 * calls in flight, on a fresh core per run; the run ends when every append resolved and the core
 * closed. Hypercore 11 keeps its blocks and Merkle tree in RocksDB; an append is written to
 * RocksDB's write-ahead log without an fsync (strace of 20 appends of 1000 blocks: no fsync or
 * fdatasync per append), so an acknowledged append survives a process crash but not a power cut —
 * the tier of kafkalite's fsync `'never'`/`'interval'` and SQLite's `synchronous=NORMAL`. Every
 * block is hashed into a signed Merkle tree (for replication and verification), which costs CPU
 * per block.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Unavailable, VALUE_SIZE, type Case } from '../harness.js';

export const HYPERCORE_LACKS =
  'one writer per core, no consumer groups or committed offsets (readers track their own index), no partitions, no retention by time or size';

const VALUE = Buffer.alloc(VALUE_SIZE, 0x61);
const PER_APPEND = 1000;

type HypercoreClass = typeof import('hypercore').default;

async function loadHypercore(): Promise<HypercoreClass> {
  try {
    return (await import('hypercore')).default;
  } catch (error) {
    throw new Unavailable(`hypercore is not installed in bench/node_modules (npm run bench installs it): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

export function hypercoreAppendCase(name: string, messages: number, maxRuns?: number): Case {
  return {
    name,
    messages,
    system: 'hypercore',
    durability: 'process crash (RocksDB WAL, no fsync)',
    lacks: HYPERCORE_LACKS,
    ...(maxRuns === undefined ? {} : { maxRuns }),
    async prepare() {
      const Hypercore = await loadHypercore();
      const dir = mkdtempSync(path.join(process.env.KAFKALITE_BENCH_DIR ?? tmpdir(), 'kafkalite-bench-hypercore-'));
      const core = new Hypercore(dir);
      await core.ready();
      const batch: Buffer[] = new Array(PER_APPEND).fill(VALUE);
      let length = 0;
      return {
        async run() {
          const window: Promise<unknown>[] = [];
          for (let sent = 0; sent < messages; sent += PER_APPEND) {
            const n = Math.min(PER_APPEND, messages - sent);
            window.push(core.append(n === PER_APPEND ? batch : batch.slice(0, n)));
            if (window.length >= 4) await window.shift();
          }
          await Promise.all(window);
          length = core.length;
          await core.close();
        },
        async finish() {
          const reopened = new Hypercore(dir);
          await reopened.ready();
          const reopenedLength = reopened.length;
          await reopened.close();
          rmSync(dir, { recursive: true, force: true });
          if (length !== messages || reopenedLength !== messages) {
            throw new Error(`${name}: the core holds ${length} (${reopenedLength} after reopening), expected ${messages}`);
          }
        },
      };
    },
  };
}
