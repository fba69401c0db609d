/**
 * Soak runner: `npm run soak -- [group|crash|model|concurrent|memory|transactions] [options]` (crash: `--always N --never N`, built
 * dist/ needed; model: a random seed, printed by fast-check on failure). Runs a model-based test far longer than
 * `npm test` does, with random seeds; see each soak's file for its options. Exits 1 on failure.
 */
import { spawnSync } from 'node:child_process';
import { groupSoak } from './group-soak.js';

/** The SIGKILL crash loop at soak size: 200 trials with fsync 'always', 100 with 'never'. */
async function crashSoak(argv: string[]): Promise<boolean> {
  const always = argv[argv.indexOf('--always') + 1] ?? '200';
  const never = argv[argv.indexOf('--never') + 1] ?? '100';
  const run = spawnSync('npx', ['vitest', 'run', 'test/storage/fs/crash-loop.test.ts', '--testTimeout', '3600000'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      KAFKALITE_CRASH_TRIALS: argv.includes('--always') ? always : '200',
      KAFKALITE_CRASH_NEVER_TRIALS: argv.includes('--never') ? never : '100',
      KAFKALITE_CRASH_SEED: String(Date.now() % 2 ** 31),
    },
  });
  return run.status === 0;
}

/** Runs one vitest file with the environment given (a longer, random-seeded version of its npm test run). */
function vitestSoak(file: string, env: Record<string, string>): () => Promise<boolean> {
  return async () => {
    console.log(`soak: ${file} with ${JSON.stringify(env)}`);
    const run = spawnSync('npx', ['vitest', 'run', file, '--testTimeout', '3600000'], { stdio: 'inherit', env: { ...process.env, ...env } });
    return run.status === 0;
  };
}

const soaks: Record<string, (argv: string[]) => Promise<boolean>> = {
  group: groupSoak,
  crash: crashSoak,
  model: vitestSoak('test/reliability/broker-model.test.ts', { KAFKALITE_MODEL_RUNS: '2000', KAFKALITE_MODEL_SEED: String(Date.now() % 2 ** 31) }),
  concurrent: vitestSoak('test/reliability/concurrent-model.test.ts', {
    KAFKALITE_CONCURRENT_RUNS: '3000',
    KAFKALITE_CONCURRENT_SEED: String(Date.now() % 2 ** 31),
  }),
  memory: vitestSoak('test/reliability/bounded-memory.test.ts', { KAFKALITE_MEMORY_MESSAGES: '10000000' }),
  // The consume-transform-produce pipeline killed 500 times (built dist/ needed).
  transactions: vitestSoak('test/txn/pipeline-crash.test.ts', { KAFKALITE_TXN_KILLS: '500', KAFKALITE_TXN_SEED: String(Date.now() % 100_000) }),
};

const [first, ...rest] = process.argv.slice(2);
const name = first === undefined || first.startsWith('-') ? 'group' : first;
const argv = first === undefined || first.startsWith('-') ? process.argv.slice(2) : rest;
const soak = soaks[name];
if (soak === undefined) {
  console.error(`unknown soak ${JSON.stringify(name)}; known: ${Object.keys(soaks).join(', ')}`);
  process.exit(2);
}
const ok = await soak(argv);
process.exitCode = ok ? 0 : 1;
