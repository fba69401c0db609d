/**
 * The benchmark runner: `npm run bench [-- [SCENARIO...] [--runs N] [--messages N] [--same-process]]`
 * starts `index.ts`, which installs the peers into bench/node_modules when needed and then imports this.
 *
 * Every row runs in a fresh Node process of its own (the same Node flags, tsx included), so no
 * row inherits another's heap, GC state or JIT feedback; the row runs once to warm up, then
 * `--runs` times (default 5; slow peer rows cap it and say so), and the median is reported. The
 * `ceiling` scenario always runs first (it is the baseline of the "vs ceiling" column), also when
 * only other scenarios are named. Peers (Redis, SQLite, hypercore) are started by the rows
 * themselves; a row whose peer is missing here is reported as not run, with the reason.
 * Results go to the terminal (with a progress bar on stderr when it is a terminal),
 * `bench/results/<date>-<scenarios>.json`, `bench/results/latest.md` and the charts
 * `bench/results/latest-throughput.svg` / `latest-latency.svg`.
 */

import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Unavailable, runCleanups, timeTrial, type Case, type Sample, type Scenario } from './lib/harness.js';
import { Progress } from './lib/progress.js';
import {
  applyRatios,
  describeFigure,
  describeMachine,
  describeSource,
  figures,
  machine,
  markdownTable,
  notes,
  sourceInfo,
  summarise,
  textTable,
  unavailableRow,
  type RowResult,
} from './lib/report.js';
import { latencyChart, throughputChart } from './lib/svg.js';
import { batched } from './scenarios/batched.js';
import { ceiling } from './scenarios/ceiling.js';
import { compaction } from './scenarios/compaction.js';
import { compression } from './scenarios/compression.js';
import { fanOut } from './scenarios/fan-out.js';
import { fileStorage } from './scenarios/file-storage.js';
import { largeValues } from './scenarios/large-values.js';
import { LATENCY_RATE, latency } from './scenarios/latency.js';
import { memory } from './scenarios/memory.js';
import { oneAtATime } from './scenarios/one-at-a-time.js';
import { rebalance } from './scenarios/rebalance.js';
import { transactions } from './scenarios/transactions.js';
import { wire } from './scenarios/wire.js';

const SCENARIOS: Scenario[] = [ceiling, batched, oneAtATime, latency, fanOut, memory, rebalance, fileStorage, largeValues, wire, compression, compaction, transactions];
const TRIAL_TIMEOUT_MS = 300_000;
const SELF = fileURLToPath(import.meta.url);

const USAGE = `usage: npm run bench -- [SCENARIO...] [--runs N] [--messages N] [--same-process]

scenarios:
${SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join('\n')}

options:
  --runs N          measured runs per row, after one warm-up run (default 5; some slow peer rows cap it); the median is reported
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
type ChildReport =
  | { warmupMs: number; runsMs: number[]; samples: Sample[]; unavailable?: undefined }
  | { unavailable: string };

/** Messages from a row's process to the runner. */
type ChildMessage = { type: 'progress'; text: string } | { type: 'result'; report: ChildReport };

function positiveInt(raw: string | undefined, fallback: number, flag: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`${flag} must be a positive integer (got ${JSON.stringify(raw)})\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** Measured runs of a row: `--runs`, capped by the row's own `maxRuns`. */
function runsFor(c: Case, runs: number): number {
  return Math.min(runs, c.maxRuns ?? runs);
}

/** Warm-up plus the measured runs of one row; `progress` hears of each. A row that cannot run here reports why. */
async function measure(c: Case, runs: number, progress: (text: string) => void): Promise<ChildReport> {
  try {
    const warmup = await timeTrial(c, TRIAL_TIMEOUT_MS);
    const runsMs: number[] = [];
    const samples: Sample[] = [];
    const n = runsFor(c, runs);
    for (let i = 0; i < n; i++) {
      progress(`run ${i + 1}/${n}`);
      const { ms, sample } = await timeTrial(c, TRIAL_TIMEOUT_MS);
      runsMs.push(ms);
      if (sample !== undefined) samples.push(sample);
    }
    return { warmupMs: warmup.ms, runsMs, samples };
  } catch (error) {
    if (error instanceof Unavailable) return { unavailable: error.message };
    throw error;
  } finally {
    await runCleanups();
  }
}

/** Runs one row in a fresh process (this file with `--child`) and returns its times. */
function measureInChild(scenario: Scenario, index: number, settings: Settings, progress: (text: string) => void): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const args = ['--child', `${scenario.name}:${index}`, '--runs', String(settings.runs), '--messages', String(settings.messages)];
    const child = fork(SELF, args, { execArgv: process.execArgv, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    let report: ChildReport | undefined;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') progress(m.text);
      else report = m.report;
    });
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
  for (const signalName of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signalName, () => {
      void runCleanups().finally(() => process.exit(130));
    });
  }
  const send = process.send?.bind(process);
  const post = (m: ChildMessage): Promise<void> =>
    new Promise<void>((resolve, reject) => send!(m, (error: Error | null) => (error ? reject(error) : resolve())));
  const report = await measure(c, settings.runs, (text) => {
    if (send !== undefined) void post({ type: 'progress', text });
  });
  if (send === undefined) {
    console.log(JSON.stringify(report)); // started by hand, not by the runner
    return;
  }
  await post({ type: 'result', report });
  process.disconnect();
}

function describeRow(report: ChildReport): string {
  if (report.unavailable !== undefined) return `not run: ${report.unavailable}`;
  return `warm-up ${report.warmupMs.toFixed(0)}ms, runs: ${report.runsMs.map((ms) => `${ms.toFixed(0)}ms`).join(' ')}`;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        runs: { type: 'string' },
        messages: { type: 'string' },
        'same-process': { type: 'boolean' },
        child: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // An unknown option or one without its value: say so plainly, not with parseArgs' stack.
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
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
  const plan = selected.map((scenario) => ({ scenario, cases: scenario.cases(settings) }));
  const progress = new Progress(plan.reduce((n, p) => n + p.cases.length, 0));
  const say = (line: string): void => {
    progress.clear();
    console.log(line);
  };
  for (const { scenario, cases } of plan) {
    say(`${scenario.name}: ${scenario.description}`);
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      progress.row(`${scenario.name} › ${c.name}`);
      const onProgress = (text: string): void => progress.detail(text);
      try {
        const report = isolated ? await measureInChild(scenario, i, settings, onProgress) : await measure(c, runs, onProgress);
        if (report.unavailable !== undefined) rows.push(unavailableRow(scenario.name, c, report.unavailable));
        else rows.push(summarise(scenario.name, c, report.runsMs, report.samples));
        say(`  ${c.name} … ${describeRow(report)}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ scenario: scenario.name, name: c.name, error: message });
        say(`  ${c.name} … FAILED: ${message}`);
      }
      progress.rowDone();
    }
  }
  progress.stop();
  applyRatios(rows);
  const after = sourceInfo(path.dirname(path.dirname(SELF)));
  const sourceChanged = after.srcHash !== source.srcHash;
  if (sourceChanged) {
    failures.push({ scenario: '-', name: '-', error: `src/ changed during the run (${source.srcHash} → ${after.srcHash}): rows may have measured different code` });
  }

  console.log(`\n${textTable(rows)}\n`);
  const rowNotes = notes(rows);
  if (rowNotes.length > 0) console.log(`Notes:\n${rowNotes.map((n) => `- ${n}`).join('\n')}\n`);
  const held = figures(rows);
  if (held.length > 0) console.log(`Figures:\n${held.map((f) => `- ${describeFigure(f)}`).join('\n')}\n`);
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
    figures: held,
    notes: rowNotes,
    failures,
  };
  await writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);

  const caption = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${host.cpu}, ${host.cores} cores · Node ${host.node} · ${describeSource(source)}`;
  const charts: string[] = [];
  if (rows.some((r) => r.kind === 'throughput' && r.unavailable === undefined)) {
    await writeFile(path.join(results, 'latest-throughput.svg'), throughputChart(rows, caption));
    charts.push('latest-throughput.svg');
  }
  // The chart compares the systems at the one rate every peer runs at (the other rates are in the table).
  const charted = rows.filter((r) => r.kind === 'latency' && r.rate === LATENCY_RATE);
  if (charted.some((r) => r.unavailable === undefined)) {
    await writeFile(path.join(results, 'latest-latency.svg'), latencyChart(charted, caption, 50));
    charts.push('latest-latency.svg');
  }
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
    'MB/s counts value bytes (10^6 bytes). "vs ceiling": throughput rows divide msgs/s by their baseline (the `ceiling` ' +
      "scenario's array, or file-storage's raw disk writes); latency rows divide p99 by the EventEmitter's at the same offered rate; memory rows divide " +
      'bytes per message by the bare array\'s. Durability says what an acknowledged message survives. See `bench/README.md` for what each row does.',
    '',
    ...(held.length > 0 ? ['## Figures', '', ...held.map((f) => `- ${describeFigure(f)}`), ''] : []),
    ...charts.map((c) => `![${c}](${c})\n`),
    markdownTable(rows),
    '',
    ...(rowNotes.length > 0 ? ['## Notes', '', ...rowNotes.map((n) => `- ${n}`), ''] : []),
    ...(failed.length > 0 ? ['## Failures', '', ...failed.map((f) => `- ${f}`), ''] : []),
  ].join('\n');
  await writeFile(path.join(results, 'latest.md'), md);
  const wrote = [jsonFile, path.join(results, 'latest.md'), ...charts.map((c) => path.join(results, c))];
  console.log(`wrote ${wrote.map((f) => path.relative(process.cwd(), f)).join(', ')}`);
  if (failures.length > 0) process.exitCode = 1;
}

await main();
