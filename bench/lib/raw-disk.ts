/**
 * The disk's own ceiling for the on-disk scenarios: raw sequential `writeSync` of 1 MiB chunks
 * holding as many bytes as kafkalite writes for the row's messages, then one `fsync`. `bytes` is
 * called in the row's own process, when it is prepared (not when the cases are listed).
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Case } from './harness.js';

const ROOT = process.env.KAFKALITE_BENCH_DIR ?? tmpdir();
const CHUNK = 1 << 20;

/** A fresh folder for one row under `KAFKALITE_BENCH_DIR` (default the OS temp folder). */
export function freshBenchDir(): string {
  return mkdtempSync(join(ROOT, 'kafkalite-bench-'));
}

export function rawDiskCase(name: string, messages: number, bytes: () => number): Case {
  return {
    name,
    messages,
    baseline: true,
    system: 'ceiling',
    durability: 'power loss (1 fsync at the end)',
    prepare() {
      const total = Math.ceil(bytes());
      const dir = freshBenchDir();
      const chunk = Buffer.alloc(CHUNK, 0x61);
      return {
        run() {
          const fd = openSync(join(dir, 'raw.log'), 'w');
          for (let written = 0; written < total; written += CHUNK) writeSync(fd, chunk, 0, Math.min(CHUNK, total - written));
          fsyncSync(fd);
          closeSync(fd);
        },
        finish() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}
