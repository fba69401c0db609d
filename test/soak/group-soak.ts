/**
 * The consumer-group model (test/group/group-model.ts) run long: random seeds, many runs, until a
 * time budget or a run count is spent. On failure it prints the seed, the path and the shrunk
 * counterexample with its trace, and the command that replays it.
 *
 *   npm run soak -- group [--seconds 120] [--runs N] [--seed S --path P --replay-path R]
 *                         [--max-commands 60] [--early-removal-slack MS] [--protocol consumer|classic|both]
 *
 * Without --runs, batches of 200 runs with fresh seeds go on until --seconds (default 120) have
 * passed. With --seed (and --path, as printed on a failure) one batch replays that case.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { groupModelProperty, newStats } from '../group/group-model.js';

export async function groupSoak(argv: string[]): Promise<boolean> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '120' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      path: { type: 'string' },
      'replay-path': { type: 'string' },
      'max-commands': { type: 'string', default: '60' },
      'early-removal-slack': { type: 'string', default: '0' },
      protocol: { type: 'string', default: 'both' },
    },
    strict: true,
  });
  const seconds = Number(values.seconds);
  const maxCommands = Number(values['max-commands']);
  const earlyRemovalSlackMs = Number(values['early-removal-slack']);
  const replay = values.seed !== undefined;
  const batch = values.runs !== undefined ? Number(values.runs) : replay && values.path !== undefined ? 1 : 200;
  const stats = newStats();
  const started = Date.now();
  let reported = started;
  let batchNo = 0;
  let seed = replay ? Number(values.seed) : Date.now() % 0x7fffffff;
  console.log(
    `group soak: ${values.runs !== undefined || replay ? `${batch} runs` : `${seconds} s`}, up to ${maxCommands} commands a run, ` +
      `early-removal slack ${earlyRemovalSlackMs} ms, first seed ${seed}`,
  );
  for (;;) {
    const replayPath = values['replay-path'];
    // Alternate the two group protocols batch by batch (or keep to the one asked for).
    const protocol = values.protocol === 'both' ? (batchNo++ % 2 === 0 ? 'consumer' : 'classic') : (values.protocol as 'consumer' | 'classic');
    const property = groupModelProperty({ stats, maxCommands, earlyRemovalSlackMs, groupProtocol: protocol, ...(replayPath !== undefined ? { replayPath } : {}) });
    const result = await fc.check(property, {
      seed,
      numRuns: batch,
      ...(values.path !== undefined ? { path: values.path, endOnFailure: true } : {}),
    });
    if (result.failed) {
      console.log(`\nFAILED — seed ${result.seed}, path ${result.counterexamplePath ?? '-'} (after ${result.numRuns} runs of this batch, ${result.numShrinks} shrinks)`);
      console.log(`counterexample: ${fc.stringify(result.counterexample)}`);
      const error = result.errorInstance;
      console.log(error instanceof Error ? (error.stack ?? error.message) : String(error));
      const replayPath = /replayPath="([^"]*)"/.exec(fc.stringify(result.counterexample))?.[1];
      console.log(
        `\nreplay: npm run soak -- group --seed ${result.seed} --path '${result.counterexamplePath ?? ''}'` +
          `${replayPath !== undefined ? ` --replay-path '${replayPath}'` : ''} --max-commands ${maxCommands} --early-removal-slack ${earlyRemovalSlackMs} --protocol ${protocol}`,
      );
      console.log(`stats: ${JSON.stringify(stats)}`);
      return false;
    }
    const elapsed = (Date.now() - started) / 1000;
    const done = replay || values.runs !== undefined || elapsed >= seconds;
    if (done || Date.now() - reported >= 10_000) {
      reported = Date.now();
      console.log(`${elapsed.toFixed(0)} s: ${stats.runs} runs ok, last seed ${seed}; ${JSON.stringify(stats)}`);
    }
    if (done) break;
    seed = (seed + 1 + (Date.now() % 0x10000)) % 0x7fffffff;
  }
  return true;
}
