/** Results: the row summary, the terminal and markdown tables, the machine description. */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VALUE_SIZE, median } from './harness.js';

export interface RowResult {
  scenario: string;
  name: string;
  messages: number;
  baseline: boolean;
  /** Every measured run, in order (the warm-up run is not included). */
  runsMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  msgsPerSec: number;
  /** Megabytes (10^6 bytes) of message values per second. */
  mbPerSec: number;
  /** msgs/s divided by the ceiling row's msgs/s from the same invocation. */
  vsCeiling: number | undefined;
}

export interface Machine {
  cpu: string;
  cores: number;
  totalMemoryBytes: number;
  platform: string;
  release: string;
  arch: string;
  node: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    node: process.version,
  };
}

/** Which kafkalite was measured: the git commit, whether `src/` differs from it, and a hash of `src/`. */
export interface SourceInfo {
  commit: string | undefined;
  srcDirty: boolean | undefined;
  /** sha256 of every file under src/ (paths and contents), first 12 hex digits. */
  srcHash: string;
}

export function sourceInfo(root: string): SourceInfo {
  const git = (...args: string[]): string | undefined => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  const commit = git('rev-parse', '--short=12', 'HEAD');
  const status = commit === undefined ? undefined : git('status', '--porcelain', '--', 'src');
  const hash = createHash('sha256');
  const src = path.join(root, 'src');
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, d.name);
      if (d.isDirectory()) walk(full);
      else if (d.isFile()) files.push(path.relative(src, full));
    }
  };
  walk(src);
  files.sort();
  for (const f of files) hash.update(`${f}\0`).update(readFileSync(path.join(src, f))).update('\0');
  return { commit, srcDirty: status === undefined ? undefined : status.length > 0, srcHash: hash.digest('hex').slice(0, 12) };
}

export function describeSource(s: SourceInfo): string {
  const commit = s.commit === undefined ? 'no git commit' : `commit ${s.commit}${s.srcDirty === true ? ' + uncommitted changes in src/' : ''}`;
  return `kafkalite ${commit} (src/ sha256 ${s.srcHash})`;
}

export function describeMachine(m: Machine): string {
  const gib = (m.totalMemoryBytes / 2 ** 30).toFixed(1);
  return `${m.cpu}, ${m.cores} cores, ${gib} GiB RAM, ${m.platform} ${m.release} (${m.arch}), Node ${m.node}`;
}

export function summarise(scenario: string, name: string, messages: number, baseline: boolean, runsMs: number[]): RowResult {
  const medianMs = median(runsMs);
  const seconds = medianMs / 1000;
  return {
    scenario,
    name,
    messages,
    baseline,
    runsMs,
    medianMs,
    minMs: Math.min(...runsMs),
    maxMs: Math.max(...runsMs),
    msgsPerSec: messages / seconds,
    mbPerSec: (messages * VALUE_SIZE) / 1e6 / seconds,
    vsCeiling: undefined,
  };
}

/**
 * Fills in `vsCeiling`: a scenario with a baseline row of its own (file-storage's raw disk
 * writes) is divided by it; every other row by the `ceiling` scenario's baseline.
 */
export function applyRatios(rows: RowResult[]): void {
  const global = rows.find((r) => r.baseline && r.scenario === 'ceiling') ?? rows.find((r) => r.baseline);
  for (const r of rows) {
    const base = rows.find((b) => b.baseline && b.scenario === r.scenario) ?? global;
    if (base !== undefined) r.vsCeiling = r.msgsPerSec / base.msgsPerSec;
  }
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function ratio(r: number | undefined): string {
  if (r === undefined) return '-';
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}x`;
}

const HEADERS = ['scenario', 'row', 'msgs', 'median ms', 'min–max ms', 'msgs/s', 'MB/s', 'vs ceiling'];
const RIGHT = [false, false, true, true, true, true, true, true];

function cells(r: RowResult): string[] {
  return [
    r.scenario,
    r.name,
    int.format(r.messages),
    r.medianMs.toFixed(1),
    `${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)}`,
    int.format(r.msgsPerSec),
    r.mbPerSec.toFixed(1),
    ratio(r.vsCeiling),
  ];
}

/** A plain-text table for the terminal. */
export function textTable(rows: RowResult[]): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row.map((c, i) => (RIGHT[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(HEADERS), rule, ...body.map(line)].join('\n');
}

/** The same table in GitHub markdown. */
export function markdownTable(rows: RowResult[]): string {
  const line = (row: string[]): string => `| ${row.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  const align = `|${RIGHT.map((r) => (r ? '---:' : ':---')).join('|')}|`;
  return [line(HEADERS), align, ...rows.map((r) => line(cells(r)))].join('\n');
}
