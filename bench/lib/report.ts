/** Results: the row summary, the terminal and markdown tables, the machine description. */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VALUE_SIZE, median, type Case, type RowKind, type Sample } from './harness.js';
import { CDF_PERCENTILES, decodeHistogram, type Histogram } from './latency.js';

export interface LatencySummary {
  /** Median over the runs of each percentile, in microseconds. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Lowest and highest p99 of the runs (µs). */
  p99Min: number;
  p99Max: number;
  /** Median messages per second the pacer actually offered. */
  offeredPerSec: number;
  /** Percentile (0–100) → latency (µs) of all runs' histograms merged, for the CDF chart. */
  cdf: { percentile: number; us: number }[];
  /** Median over the runs of p50 / p99 / p99.9 timed from the actual `send` call (µs). */
  fromSend: { p50: number; p99: number; p999: number };
  /** Every run's histograms, hdr-histogram-js compressed base64 (ns): from the intended time, from the send call. */
  histograms: string[];
  serviceHistograms: string[];
}

export interface MemorySummary {
  /** Median over the runs of the retained bytes per message (= MB per million messages). */
  bytesPerMsg: number;
  minBytesPerMsg: number;
  maxBytesPerMsg: number;
  /** Median RSS growth per message, when the row measured it. */
  rssBytesPerMsg: number | undefined;
  /** Median bytes of record batches per message (the message's share of its batch), when the row measured them. */
  logBytesPerMsg: number | undefined;
  /** Median over the runs of retained bytes ÷ batch bytes: what the storage keeps beyond the batches themselves. */
  retainedPerLogByte: number | undefined;
}

export interface RowResult {
  scenario: string;
  name: string;
  kind: RowKind;
  id: string | undefined;
  system: string;
  durability: string | undefined;
  lacks: string | undefined;
  /** Why the row could not run here (peer not installed, addon not built); no figures then. */
  unavailable: string | undefined;
  messages: number;
  baseline: boolean;
  /** Latency rows: the rate the pacer offered (msgs/s); compared with the baseline of the same rate. */
  rate: number | undefined;
  /** Every measured run, in order (the warm-up run is not included). */
  runsMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  msgsPerSec: number;
  /** Megabytes (10^6 bytes) of message values per second. */
  mbPerSec: number;
  /**
   * Against the baseline of the same kind (the scenario's own, else the `ceiling` scenario's):
   * throughput msgs/s ÷ baseline msgs/s; latency p99 ÷ baseline p99; memory bytes ÷ baseline bytes.
   */
  vsCeiling: number | undefined;
  latency?: LatencySummary;
  memory?: MemorySummary;
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

function rowBase(scenario: string, c: Case): Omit<RowResult, 'runsMs' | 'medianMs' | 'minMs' | 'maxMs' | 'msgsPerSec' | 'mbPerSec' | 'vsCeiling'> {
  return {
    scenario,
    name: c.name,
    kind: c.kind ?? 'throughput',
    id: c.id,
    system: c.system ?? 'kafkalite',
    durability: c.durability,
    lacks: c.lacks,
    unavailable: undefined,
    messages: c.messages,
    baseline: c.baseline === true,
    rate: c.rate,
  };
}

/** A row that could not run here: the reason instead of figures. */
export function unavailableRow(scenario: string, c: Case, reason: string): RowResult {
  return { ...rowBase(scenario, c), unavailable: reason, runsMs: [], medianMs: NaN, minMs: NaN, maxMs: NaN, msgsPerSec: NaN, mbPerSec: NaN, vsCeiling: undefined };
}

const us = (ns: number): number => ns / 1000;

function summariseLatency(samples: Sample[]): LatencySummary {
  const encoded = samples.map((s) => s.latencyHistogram).filter((h): h is string => h !== undefined);
  if (encoded.length === 0) throw new Error('a latency row returned no histogram');
  const histograms: Histogram[] = encoded.map(decodeHistogram);
  const at = (p: number): number[] => histograms.map((h) => us(h.getValueAtPercentile(p)));
  const p99s = at(99);
  const merged = decodeHistogram(encoded[0]!);
  for (const h of histograms.slice(1)) merged.add(h);
  const offered = samples.map((s) => s.offeredPerSec).filter((o): o is number => o !== undefined);
  const serviceEncoded = samples.map((s) => s.serviceHistogram).filter((h): h is string => h !== undefined);
  const service = serviceEncoded.map(decodeHistogram);
  const serviceAt = (p: number): number => (service.length === 0 ? NaN : median(service.map((h) => us(h.getValueAtPercentile(p)))));
  return {
    p50: median(at(50)),
    p90: median(at(90)),
    p99: median(p99s),
    p999: median(at(99.9)),
    max: median(histograms.map((h) => us(h.maxValue))),
    p99Min: Math.min(...p99s),
    p99Max: Math.max(...p99s),
    offeredPerSec: offered.length > 0 ? median(offered) : NaN,
    cdf: CDF_PERCENTILES.map((percentile) => ({ percentile, us: us(percentile === 100 ? merged.maxValue : merged.getValueAtPercentile(percentile)) })),
    fromSend: { p50: serviceAt(50), p99: serviceAt(99), p999: serviceAt(99.9) },
    histograms: encoded,
    serviceHistograms: serviceEncoded,
  };
}

function summariseMemory(samples: Sample[], messages: number): MemorySummary {
  const perMsg = samples.map((s) => (s.retainedBytes ?? NaN) / messages);
  const rss = samples.map((s) => s.rssBytes).filter((r): r is number => r !== undefined);
  const withLog = samples.filter((s): s is Sample & { logBytes: number; retainedBytes: number } => s.logBytes !== undefined && s.retainedBytes !== undefined);
  return {
    bytesPerMsg: median(perMsg),
    minBytesPerMsg: Math.min(...perMsg),
    maxBytesPerMsg: Math.max(...perMsg),
    rssBytesPerMsg: rss.length > 0 ? median(rss) / messages : undefined,
    logBytesPerMsg: withLog.length > 0 ? median(withLog.map((s) => s.logBytes)) / messages : undefined,
    retainedPerLogByte: withLog.length > 0 ? median(withLog.map((s) => s.retainedBytes / s.logBytes)) : undefined,
  };
}

export function summarise(scenario: string, c: Case, runsMs: number[], samples: Sample[] = []): RowResult {
  const medianMs = median(runsMs);
  const seconds = medianMs / 1000;
  const base = rowBase(scenario, c);
  return {
    ...base,
    runsMs,
    medianMs,
    minMs: Math.min(...runsMs),
    maxMs: Math.max(...runsMs),
    msgsPerSec: c.messages / seconds,
    mbPerSec: (c.bytes ?? c.messages * VALUE_SIZE) / 1e6 / seconds,
    vsCeiling: undefined,
    ...(base.kind === 'latency' ? { latency: summariseLatency(samples) } : {}),
    ...(base.kind === 'memory' ? { memory: summariseMemory(samples, c.messages) } : {}),
  };
}

/** The figure a row is compared by: msgs/s, p99 µs or bytes per message. */
function figure(r: RowResult): number | undefined {
  if (r.unavailable !== undefined) return undefined;
  if (r.kind === 'throughput') return r.msgsPerSec;
  if (r.kind === 'latency') return r.latency?.p99;
  if (r.kind === 'memory') return r.memory?.bytesPerMsg;
  return undefined;
}

/**
 * Fills in `vsCeiling`: a row is divided by the baseline row of its own scenario and kind (the
 * disk baseline of file-storage, the EventEmitter of latency at the same offered rate, the array
 * of memory); throughput rows of a scenario without one by the `ceiling` scenario's baseline.
 */
export function applyRatios(rows: RowResult[]): void {
  const global = rows.find((r) => r.baseline && r.scenario === 'ceiling' && r.kind === 'throughput');
  for (const r of rows) {
    const own = rows.find((b) => b.baseline && b.scenario === r.scenario && b.kind === r.kind && b.rate === r.rate);
    const base = own ?? (r.kind === 'throughput' ? global : undefined);
    const value = figure(r);
    const baseValue = base === undefined ? undefined : figure(base);
    r.vsCeiling = value === undefined || baseValue === undefined ? undefined : value / baseValue;
  }
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function ratio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '-';
  return `${r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}x`;
}

function micros(v: number): string {
  return v >= 100 ? int.format(v) : v.toFixed(1);
}

interface Table {
  headers: string[];
  right: boolean[];
  body: string[][];
}

function throughputTable(rows: RowResult[]): Table {
  return {
    headers: ['scenario', 'row', 'durability', 'msgs', 'median ms', 'min–max ms', 'msgs/s', 'MB/s', 'vs ceiling'],
    right: [false, false, false, true, true, true, true, true, true],
    body: rows.map((r) => {
      if (r.unavailable !== undefined) return [r.scenario, `${r.name} — NOT RUN: ${r.unavailable}`, r.durability ?? '-', int.format(r.messages), 'n/a', '-', '-', '-', '-'];
      const head = [r.scenario, r.name, r.durability ?? '-'];
      const timed = [int.format(r.messages), r.medianMs.toFixed(1), `${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)}`];
      if (r.kind === 'duration') return [...head, '-', r.medianMs.toFixed(1), `${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)}`, '-', '-', '-'];
      return [...head, ...timed, int.format(r.msgsPerSec), r.mbPerSec.toFixed(1), ratio(r.vsCeiling)];
    }),
  };
}

function latencyTable(rows: RowResult[]): Table {
  return {
    headers: [
      'scenario',
      'row',
      'offered msgs/s',
      'achieved msgs/s',
      'p50 µs',
      'p90 µs',
      'p99 µs',
      'p99.9 µs',
      'max µs',
      'p99 min–max µs',
      'p99 vs ceiling',
      'from send: p50 / p99 / p99.9 µs',
    ],
    right: [false, false, true, true, true, true, true, true, true, true, true, true],
    body: rows.map((r) => {
      const l = r.latency;
      if (r.unavailable !== undefined || l === undefined) return [r.scenario, `${r.name} — NOT RUN: ${r.unavailable ?? 'no histogram'}`, 'n/a', '-', '-', '-', '-', '-', '-', '-', '-', '-'];
      return [
        r.scenario,
        r.name,
        int.format(l.offeredPerSec),
        int.format(r.msgsPerSec),
        micros(l.p50),
        micros(l.p90),
        micros(l.p99),
        micros(l.p999),
        micros(l.max),
        `${micros(l.p99Min)}–${micros(l.p99Max)}`,
        ratio(r.vsCeiling),
        `${micros(l.fromSend.p50)} / ${micros(l.fromSend.p99)} / ${micros(l.fromSend.p999)}`,
      ];
    }),
  };
}

function memoryTable(rows: RowResult[]): Table {
  return {
    headers: ['scenario', 'row', 'msgs', 'bytes/msg (= MB per 1M)', 'min–max', 'RSS bytes/msg', 'batch bytes/msg', 'retained ÷ batch bytes', 'vs ceiling'],
    right: [false, false, true, true, true, true, true, true, true],
    body: rows.map((r) => {
      const m = r.memory;
      if (r.unavailable !== undefined || m === undefined) return [r.scenario, `${r.name} — NOT RUN: ${r.unavailable ?? 'no figure'}`, int.format(r.messages), 'n/a', '-', '-', '-', '-', '-'];
      return [
        r.scenario,
        r.name,
        int.format(r.messages),
        m.bytesPerMsg.toFixed(1),
        `${m.minBytesPerMsg.toFixed(0)}–${m.maxBytesPerMsg.toFixed(0)}`,
        m.rssBytesPerMsg === undefined ? '-' : m.rssBytesPerMsg.toFixed(1),
        m.logBytesPerMsg === undefined ? '-' : m.logBytesPerMsg.toFixed(1),
        m.retainedPerLogByte === undefined ? '-' : `${m.retainedPerLogByte.toFixed(2)}x`,
        ratio(r.vsCeiling),
      ];
    }),
  };
}

/** The tables of a run: throughput (and durations), latency, memory — each only if it has rows. */
function tables(rows: RowResult[]): { title: string; table: Table }[] {
  const out: { title: string; table: Table }[] = [];
  const tp = rows.filter((r) => r.kind === 'throughput' || r.kind === 'duration');
  const lat = rows.filter((r) => r.kind === 'latency');
  const mem = rows.filter((r) => r.kind === 'memory');
  if (tp.length > 0) out.push({ title: 'Throughput (msgs/s = messages ÷ median time; duration rows: only the time)', table: throughputTable(tp) });
  if (lat.length > 0) {
    out.push({
      title: 'Latency at a fixed offered rate (medians over the runs; from the intended send time, so stalls count; "from send": from the actual send call)',
      table: latencyTable(lat),
    });
  }
  if (mem.length > 0) out.push({ title: 'Memory per retained message', table: memoryTable(mem) });
  return out;
}

function text(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.body.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row.map((c, i) => (t.right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(t.headers), rule, ...t.body.map(line)].join('\n');
}

function markdown(t: Table): string {
  const line = (row: string[]): string => `| ${row.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  const align = `|${t.right.map((r) => (r ? '---:' : ':---')).join('|')}|`;
  return [line(t.headers), align, ...t.body.map(line)].join('\n');
}

/** Plain-text tables for the terminal. */
export function textTable(rows: RowResult[]): string {
  return tables(rows)
    .map(({ title, table }) => `${title}\n\n${text(table)}`)
    .join('\n\n');
}

/** The same tables in GitHub markdown, each under a heading of `level`. */
export function markdownTable(rows: RowResult[], level = '##'): string {
  return tables(rows)
    .map(({ title, table }) => `${level} ${title}\n\n${markdown(table)}`)
    .join('\n\n');
}

/** "Does not offer" per system, and why rows did not run. */
export function notes(rows: RowResult[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (r.lacks === undefined || seen.has(r.system)) continue;
    seen.add(r.system);
    out.push(`${r.system} does not offer: ${r.lacks}.`);
  }
  for (const r of rows) if (r.unavailable !== undefined) out.push(`not run: ${r.scenario} / ${r.name}: ${r.unavailable}`);
  return out;
}

// ---- the issue's figures ----------------------------------------------------------------------

export interface Figure {
  title: string;
  target: string;
  measured: string;
  /** undefined: a row it needs did not run. */
  met: boolean | undefined;
}

/** The figures the benchmarks are held to, read off this run's rows (by `id`). */
export function figures(rows: RowResult[]): Figure[] {
  const byId = (id: string): RowResult | undefined => rows.find((r) => r.id === id && r.unavailable === undefined);
  const out: Figure[] = [];
  const throughputRatio = (title: string, target: number, a: string, b: string): void => {
    const x = byId(a);
    const y = byId(b);
    if (x === undefined || y === undefined) {
      if (rows.some((r) => r.id === a || r.id === b)) out.push({ title, target: `≥ ${target}×`, measured: 'not measured (a row did not run)', met: undefined });
      return;
    }
    const q = x.msgsPerSec / y.msgsPerSec;
    out.push({
      title,
      target: `≥ ${target}×`,
      measured: `${q.toFixed(2)}× (${int.format(x.msgsPerSec)} vs ${int.format(y.msgsPerSec)} msgs/s)`,
      met: q >= target,
    });
  };
  throughputRatio('kafkalite in memory vs Redis Streams without persistence (group member + commit per batch vs XREADGROUP + XACK)', 10, 'kafkalite-memory-group', 'redis-memory');
  throughputRatio('kafkalite in memory vs the SQLite :memory: queue (group member + commit per batch vs SELECT + DELETE)', 5, 'kafkalite-memory-group', 'sqlite-memory');
  const lat = byId('kafkalite-latency');
  if (lat?.latency !== undefined) {
    out.push({
      title: `kafkalite as an event bus (in memory, send×1 → eachMessage) at ${int.format(lat.latency.offeredPerSec)} msgs/s: p99`,
      target: '< 50 µs',
      measured:
        `${micros(lat.latency.p99)} µs from the intended send time (p50 ${micros(lat.latency.p50)}, p99.9 ${micros(lat.latency.p999)}, max ${micros(lat.latency.max)}); ` +
        `${micros(lat.latency.fromSend.p99)} µs from the send call; the EventEmitter ceiling's p99 ${ceilingP99(rows, lat.rate)}`,
      met: lat.latency.p99 < 50,
    });
  }
  throughputRatio("FileStorage fsync 'always' vs SQLite WAL synchronous=FULL, 1000 per send / per transaction", 1, 'kafkalite-always-batched', 'sqlite-full-batched');
  throughputRatio("FileStorage fsync 'always' with group commit (8 producers × 64 sends of 1 in flight) vs SQLite FULL, 1 row per transaction", 1, 'kafkalite-always-group-commit', 'sqlite-full-single');
  throughputRatio("FileStorage fsync 'always', 1 producer, send×1 awaited vs SQLite FULL, 1 row per transaction (no concurrency to share an fsync)", 1, 'kafkalite-always-single', 'sqlite-full-single');
  const kcatProduce = byId('wire-kcat-produce');
  if (kcatProduce !== undefined) {
    const inProcess = byId('wire-inprocess-produce');
    out.push({
      title: 'kcat -P of 100-byte messages over TCP (wire)',
      target: '≥ 500,000 msgs/s',
      measured: `${int.format(kcatProduce.msgsPerSec)} msgs/s${inProcess === undefined ? '' : `, ${(kcatProduce.msgsPerSec / inProcess.msgsPerSec).toFixed(2)}× in-process batched produce (${int.format(inProcess.msgsPerSec)} msgs/s)`}`,
      met: kcatProduce.msgsPerSec >= 500_000,
    });
  }
  throughputRatio('kcat -C -e of a FileStorage backlog over TCP vs reading its segment files (same messages)', 0.5, 'wire-kcat-fetch', 'wire-raw-read');
  const overTcp = byId('wire-kafkajs-tcp');
  const viaLite = byId('wire-kafkajs-inprocess');
  if (overTcp !== undefined && viaLite !== undefined) {
    out.push({
      title: 'the price of the socket: KafkaJS producer over TCP vs through kafkalite/kafkajs',
      target: 'reported, no target',
      measured: `${(overTcp.msgsPerSec / viaLite.msgsPerSec).toFixed(2)}× (${int.format(overTcp.msgsPerSec)} vs ${int.format(viaLite.msgsPerSec)} msgs/s)`,
      met: true,
    });
  }
  return out;
}

function ceilingP99(rows: RowResult[], rate: number | undefined): string {
  const c = rows.find((r) => r.kind === 'latency' && r.baseline && r.rate === rate && r.latency !== undefined);
  return c === undefined ? 'not measured' : `${micros(c.latency!.p99)} µs (${micros(c.latency!.fromSend.p99)} from the send call)`;
}

export function describeFigure(f: Figure): string {
  const verdict = f.met === undefined ? 'NOT MEASURED' : f.met ? 'met' : 'MISSED';
  return `${verdict}: ${f.title}: ${f.measured}; target ${f.target}`;
}
