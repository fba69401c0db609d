/**
 * The benchmark runner: `npm run bench [-- [SCENARIO...] [--runs N] [--messages N] [--same-process]]`.
 *
 * Every row runs in a fresh Node process of its own (the same Node flags, tsx included), so no
 * row inherits another's heap, GC state or JIT feedback; the row runs once to warm up, then
 * `--runs` times (default 5), and the median is reported. The `ceiling` scenario always runs first
 * (it is the baseline of the "vs ceiling" column), also when only other scenarios are named.
 * Results go to the terminal, `bench/results/<date>-<scenarios>.json` and `bench/results/latest.md`.
 */

import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { timeTrial, type Case, type Scenario } from './lib/harness.js';
import {
  applyRatios,
  describeMachine,
  describeSource,
  machine,
  markdownTable,
  sourceInfo,
  summarise,
  textTable,
  type RowResult,
} from './lib/report.js';
import { batched } from './scenarios/batched.js';
import { fileStorage } from './scenarios/file-storage.js';
import { ceiling } from './scenarios/ceiling.js';
import { oneAtATime } from './scenarios/one-at-a-time.js';
import { rebalance } from './scenarios/rebalance.js';

const SCENARIOS: Scenario[] = [ceiling, batched, oneAtATime, rebalance, fileStorage];
const TRIAL_TIMEOUT_MS = 300_000;
const SELF = fileURLToPath(import.meta.url);

const USAGE = `usage: npm run bench -- [SCENARIO...] [--runs N] [--messages N] [--same-process]

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join('\n')}

options:
  --runs N          measured runs per row, after one warm-up run (default 5); the median is reported
  --messages N      messages per run (default 1000000; 1e6 and 1_000_000 work too)
  --same-process    run every row in this process instead of a fresh process per row
  --child S:I       measure only row I (from 0) of scenario S in this process and print its times
                    (what the runner starts per row; handy under --cpu-prof)
`;

interface Settings {
  runs: number;
  messages: number;
}

/** What a child process reports for its row. */
interface ChildReport {
  warmupMs: number;
  runsMs: number[];
}

function positiveInt(raw: string | undefined, fallback: number, flag: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`${flag} must be a positive integer (got ${JSON.stringify(raw)})\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** Warm-up plus the measured runs of one row, printing each time as it comes. */
async function measure(c: Case, runs: number): Promise<ChildReport> {
  const warmupMs = await timeTrial(c, TRIAL_TIMEOUT_MS);
  process.stdout.write(` ${warmupMs.toFixed(0)}ms, runs:`);
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    runsMs.push(await timeTrial(c, TRIAL_TIMEOUT_MS));
    process.stdout.write(` ${runsMs[i]!.toFixed(0)}ms`);
  }
  return { warmupMs, runsMs };
}

/** Runs one row in a fresh process (this file with `--child`) and returns its times. */
function measureInChild(scenario: Scenario, index: number, settings: Settings): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const args = ['--child', `${scenario.name}:${index}`, '--runs', String(settings.runs), '--messages', String(settings.messages)];
    const child = fork(SELF, args, { execArgv: process.execArgv, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    let report: ChildReport | undefined;
    child.on('message', (m) => (report = m as ChildReport));
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      if (report !== undefined && code === 0) resolve(report);
      else reject(new Error(`${scenario.name} row ${index}: child process exited with ${sig ?? `code ${code}`}`));
    });
  });
}

/** `--child SCENARIO:INDEX`: measure one row and send the times to the parent. */
async function child(spec: string, settings: Settings): Promise<void> {
  const [name, index] = spec.split(':');
  const c = SCENARIOS.find((s) => s.name === name)?.cases(settings)[Number(index)];
  if (c === undefined) throw new Error(`no row ${spec}`);
  const report = await measure(c, settings.runs);
  const send = process.send?.bind(process);
  if (send === undefined) {
    console.log(`\n${JSON.stringify(report)}`); // started by hand, not by the runner
    return;
  }
  await new Promise<void>((resolve, reject) => send(report, (error: Error | null) => (error ? reject(error) : resolve())));
  process.disconnect();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      messages: { type: 'string' },
      'same-process': { type: 'boolean' },
      child: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const settings: Settings = {
    runs: positiveInt(values.runs, 5, '--runs'),
    messages: positiveInt(values.messages, 1_000_000, '--messages'),
  };
  if (values.child !== undefined) return child(values.child, settings);

  const unknown = positionals.filter((p) => !SCENARIOS.some((s) => s.name === p));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.map((u) => JSON.stringify(u)).join(', ')}\n\n${USAGE}`);
    process.exit(2);
  }
  const named = positionals.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => positionals.includes(s.name));
  const selected = named.includes(ceiling) ? named : [ceiling, ...named];
  const set = positionals.length === 0 ? 'all' : named.map((s) => s.name).join('+');
  const isolated = values['same-process'] !== true;

  const date = new Date();
  const host = machine();
  const source = sourceInfo(path.dirname(path.dirname(SELF)));
  const { runs, messages } = settings;
  console.log(`kafkalite bench — ${date.toISOString()}`);
  console.log(describeSource(source));
  console.log(describeMachine(host));
  console.log(
    `${messages.toLocaleString('en-US')} messages of 100 bytes per run, 1 warm-up + ${runs} runs per row, median reported, ` +
      (isolated ? 'one process per row\n' : 'all rows in one process\n'),
  );

  const rows: RowResult[] = [];
  const failures: { scenario: string; name: string; error: string }[] = [];
  for (const scenario of selected) {
    console.log(`${scenario.name}: ${scenario.description}`);
    const cases = scenario.cases(settings);
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      process.stdout.write(`  ${c.name} … warm-up`);
      try {
        const { runsMs } = isolated ? await measureInChild(scenario, i, settings) : await measure(c, runs);
        rows.push(summarise(scenario.name, c.name, c.messages, c.baseline === true, runsMs));
        process.stdout.write('\n');
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ scenario: scenario.name, name: c.name, error: message });
        process.stdout.write(`\n  FAILED: ${message}\n`);
      }
    }
  }
  applyRatios(rows);
  const after = sourceInfo(path.dirname(path.dirname(SELF)));
  const sourceChanged = after.srcHash !== source.srcHash;
  if (sourceChanged) {
    failures.push({ scenario: '-', name: '-', error: `src/ changed during the run (${source.srcHash} → ${after.srcHash}): rows may have measured different code` });
  }

  console.log(`\n${textTable(rows)}\n`);
  const failed = failures.map((f) => `FAILED ${f.scenario} / ${f.name}: ${f.error}`);
  if (failed.length > 0) console.log(`${failed.join('\n')}\n`);

  const results = path.join(path.dirname(SELF), 'results');
  await mkdir(results, { recursive: true });
  const stamp = date.toISOString().slice(0, 16).replace(':', '-'); // 2025-01-31T09-45 (UTC)
  const jsonFile = path.join(results, `${stamp}-${set}.json`);
  const report = {
    date: date.toISOString(),
    source,
    machine: host,
    settings: { runs, messages, valueBytes: 100, partitions: 1, scenarios: selected.map((s) => s.name), processPerRow: isolated },
    rows,
    failures,
  };
  await writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  const md = [
    '# kafkalite benchmark — latest run',
    '',
    `- Date: ${date.toISOString()}`,
    `- Machine: ${host.cpu}, ${host.cores} cores, ${(host.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB RAM (${host.platform} ${host.release}, ${host.arch})`,
    `- Node: ${host.node}`,
    `- Measured: ${describeSource(source)}`,
    `- Settings: ${messages.toLocaleString('en-US')} messages of 100 bytes per run, one partition, ` +
      `1 warm-up + ${runs} runs per row, median reported, ${isolated ? 'one process per row' : 'all rows in one process'}`,
    `- Scenarios: ${selected.map((s) => s.name).join(', ')}`,
    `- Raw results: \`${path.basename(jsonFile)}\``,
    '',
    'MB/s counts value bytes (10^6 bytes). "vs ceiling" is msgs/s divided by the ceiling baseline row of this run. See `bench/README.md` for what each row does.',
    '',
    markdownTable(rows),
    '',
    ...(failed.length > 0 ? [...failed.map((f) => `- ${f}`), ''] : []),
  ].join('\n');
  await writeFile(path.join(results, 'latest.md'), md);
  console.log(`wrote ${path.relative(process.cwd(), jsonFile)} and ${path.relative(process.cwd(), path.join(results, 'latest.md'))}`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
