/**
 * The broker under calls that are not awaited one by one (see concurrent-model.ts), on both
 * storages: a fixed seed in `npm test`; `npm run soak -- concurrent` runs random seeds longer.
 * Replay a failure with KAFKALITE_CONCURRENT_SEED=<seed> KAFKALITE_CONCURRENT_PATH=<path>.
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { runScenario, scenario, type StorageKind } from './concurrent-model.js';

const RUNS = Number(process.env.KAFKALITE_CONCURRENT_RUNS ?? 300);
const SEED = Number(process.env.KAFKALITE_CONCURRENT_SEED ?? 20_261_130);
const PATH = process.env.KAFKALITE_CONCURRENT_PATH;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.each(['memory', 'file'] as StorageKind[])('broker under concurrent calls (%s storage)', (kind) => {
  it(`keeps call order, consecutive offsets, bytes at the call and durability over ${RUNS} scenarios`, async () => {
    const result = await fc.check(
      fc.asyncProperty(scenario, (s) => runScenario(kind, s, dirs)),
      { seed: SEED, numRuns: RUNS, path: PATH },
    );
    if (result.failed) {
      const replay = `KAFKALITE_CONCURRENT_SEED=${result.seed} KAFKALITE_CONCURRENT_PATH=${result.counterexamplePath} npx vitest run test/reliability/concurrent-model.test.ts`;
      throw new Error(`${fc.defaultReportMessage(result)}\nreplay: ${replay}`, { cause: result.errorInstance });
    }
  }, 600_000);
});
