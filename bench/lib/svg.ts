/**
 * The charts, as plain SVG strings (no dependency): horizontal throughput bars per scenario
 * (logarithmic scale by default: the rows span four orders of magnitude), and the latency CDF
 * (latency on a log axis, the cumulative share of messages on a "nines" axis so the tail shows).
 * Every chart carries the date, machine and Node version of its run.
 */

import type { RowResult } from './report.js';

const COLORS: Record<string, string> = {
  kafkalite: '#2563eb',
  ceiling: '#6b7280',
  'Redis Streams': '#dc2626',
  'SQLite queue': '#16a34a',
  EventEmitter: '#ea580c',
  eventemitter3: '#a855f7',
  hypercore: '#0891b2',
};
const FALLBACK = ['#ca8a04', '#db2777', '#4b5563'];

function color(system: string): string {
  const known = COLORS[system];
  if (known !== undefined) return known;
  let h = 0;
  for (const ch of system) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return FALLBACK[h % FALLBACK.length]!;
}

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return n >= 10 ? n.toFixed(0) : n.toPrecision(2);
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

function legend(systems: string[], x: number, y: number): string {
  let out = '';
  let cx = x;
  for (const s of systems) {
    out += `<rect x="${cx}" y="${y - 9}" width="10" height="10" fill="${color(s)}"/><text x="${cx + 14}" y="${y}" font-size="11">${esc(s)}</text>`;
    cx += 24 + s.length * 6.5;
  }
  return out;
}

/** Horizontal bars of msgs/s, grouped by scenario; `log` (default) or linear scale. */
export function throughputChart(rows: RowResult[], caption: string, options: { log?: boolean } = {}): string {
  const log = options.log ?? true;
  const bars = rows.filter((r) => r.kind === 'throughput' && r.unavailable === undefined && Number.isFinite(r.msgsPerSec));
  const skipped = rows.filter((r) => r.kind === 'throughput' && r.unavailable !== undefined);
  const scenarios = [...new Set(bars.map((r) => r.scenario))];
  const labelW = 600;
  const plotW = 460;
  const width = labelW + plotW + 90;
  const rowH = 17;
  const top = 74;
  const max = Math.max(...bars.map((r) => r.msgsPerSec), 10);
  const min = log ? Math.max(1, Math.min(...bars.map((r) => r.msgsPerSec)) / 2) : 0;
  const lo = log ? Math.floor(Math.log10(min)) : 0;
  const hi = log ? Math.ceil(Math.log10(max)) : max * 1.05;
  const x = (v: number): number =>
    labelW + (log ? ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotW : (v / hi) * plotW);

  let body = '';
  let y = top;
  for (const scenario of scenarios) {
    y += 8;
    body += `<text x="8" y="${y + 10}" font-size="13" font-weight="600">${esc(scenario)}</text>`;
    y += 18;
    for (const r of bars.filter((b) => b.scenario === scenario)) {
      const w = Math.max(1, x(r.msgsPerSec) - labelW);
      const label = truncate(r.system === 'kafkalite' && !/kafkalite/i.test(r.name) ? `kafkalite: ${r.name}` : r.name, 92);
      body +=
        `<text x="${labelW - 8}" y="${y + 12}" font-size="11" text-anchor="end"><title>${esc(r.name)} — ${esc(r.durability ?? '')}</title>${esc(label)}</text>` +
        `<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${color(r.system)}"${r.baseline ? ' fill-opacity="0.55"' : ''}/>` +
        `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 12}" font-size="11">${compact(r.msgsPerSec)}</text>`;
      y += rowH;
    }
  }
  const bottom = y + 8;
  // grid and axis
  let grid = '';
  const ticks: number[] = [];
  if (log) for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  else for (let i = 0; i <= 5; i++) ticks.push((hi / 5) * i);
  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    grid += `<line x1="${tx}" y1="${top}" x2="${tx}" y2="${bottom}" stroke="#e5e7eb"/><text x="${tx}" y="${bottom + 14}" font-size="10" text-anchor="middle" fill="#374151">${compact(t)}</text>`;
  }
  const systems = [...new Set(bars.map((r) => r.system))];
  const height = bottom + 40 + (skipped.length > 0 ? 16 : 0);
  const note =
    skipped.length > 0
      ? `<text x="8" y="${bottom + 48}" font-size="10" fill="#b91c1c">${esc(`not run here: ${skipped.map((r) => r.name).join('; ')}`).slice(0, 400)}</text>`
      : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="20" font-size="15" font-weight="600">Throughput, msgs/s (${log ? 'log scale' : 'linear scale'}; 100-byte values; median of the runs)</text>
<text x="8" y="38" font-size="11" fill="#374151">${esc(caption)}</text>
${legend(systems, 8, 60)}
${grid}
${body}
<text x="${labelW + plotW / 2}" y="${bottom + 30}" font-size="11" text-anchor="middle" fill="#374151">messages per second</text>
${note}
</svg>
`;
}

/** Latency CDF lines: x = latency (µs, log), y = share of messages at or below it, on a nines scale. */
export function latencyChart(rows: RowResult[], caption: string, targetUs?: number): string {
  const lines = rows.filter((r) => r.kind === 'latency' && r.latency !== undefined && r.unavailable === undefined);
  const rates = [...new Set(lines.map((r) => r.rate))];
  const offered = rates.length === 1 && rates[0] !== undefined ? `${rates[0].toLocaleString('en-US')} msgs/s offered` : 'a fixed offered rate';
  const width = 900;
  const height = 520;
  const left = 70;
  const right = 250;
  const top = 60;
  const bottom = 60;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const MAX_NINES = 5; // 99.999%
  const nines = (p: number): number => Math.min(MAX_NINES, -Math.log10(Math.max(1e-12, 1 - p / 100)));
  const values = lines.flatMap((r) => r.latency!.cdf.map((c) => c.us)).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.max(0.1, Math.min(...values, 1))));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10, targetUs ?? 0)));
  const x = (v: number): number => left + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotW;
  const y = (p: number): number => top + plotH - (nines(p) / MAX_NINES) * plotH;

  let grid = '';
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e).toFixed(1);
    const label = 10 ** e >= 1000 ? `${10 ** (e - 3)} ms` : `${10 ** e} µs`;
    grid += `<line x1="${gx}" y1="${top}" x2="${gx}" y2="${top + plotH}" stroke="#e5e7eb"/><text x="${gx}" y="${top + plotH + 16}" font-size="10" text-anchor="middle">${label.replace('0.1 µs', '0.1 µs')}</text>`;
  }
  for (const [p, label] of [
    [0, '0%'],
    [90, '90%'],
    [99, '99%'],
    [99.9, '99.9%'],
    [99.99, '99.99%'],
    [99.999, '99.999%'],
  ] as const) {
    const gy = y(p).toFixed(1);
    grid += `<line x1="${left}" y1="${gy}" x2="${left + plotW}" y2="${gy}" stroke="#e5e7eb"/><text x="${left - 6}" y="${gy}" font-size="10" text-anchor="end" dominant-baseline="middle">${label}</text>`;
  }
  const half = y(50).toFixed(1);
  grid += `<line x1="${left}" y1="${half}" x2="${left + plotW}" y2="${half}" stroke="#f3f4f6" stroke-dasharray="2 3"/><text x="${left - 6}" y="${half}" font-size="10" text-anchor="end" dominant-baseline="middle">50%</text>`;
  if (targetUs !== undefined) {
    const tx = x(targetUs).toFixed(1);
    grid += `<line x1="${tx}" y1="${top}" x2="${tx}" y2="${top + plotH}" stroke="#111827" stroke-dasharray="5 4"/><text x="${tx}" y="${top - 6}" font-size="10" text-anchor="middle">${targetUs} µs target (p99)</text>`;
  }
  const palette = ['#6b7280', '#a855f7', '#2563eb', '#0ea5e9', '#dc2626', '#16a34a', '#ca8a04'];
  let paths = '';
  let legendY = top + 4;
  lines.forEach((r, i) => {
    const c = r.system === 'kafkalite' ? (i % 2 === 0 ? '#2563eb' : '#0ea5e9') : r.baseline ? '#6b7280' : (COLORS[r.system] ?? palette[i % palette.length]!);
    const pts = r.latency!.cdf.filter((p) => p.percentile < 100 && p.us > 0).map((p) => `${x(p.us).toFixed(1)},${y(p.percentile).toFixed(1)}`);
    paths += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"><title>${esc(r.name)}</title></polyline>`;
    const name = truncate((r.system === 'kafkalite' ? `kafkalite ${r.name}` : r.name).replace(/ \(\d+k msgs\/s.*\)$/, ''), 40);
    paths += `<line x1="${left + plotW + 14}" y1="${legendY}" x2="${left + plotW + 32}" y2="${legendY}" stroke="${c}" stroke-width="3"/><text x="${left + plotW + 36}" y="${legendY + 4}" font-size="10">${esc(name)}</text>`;
    const f = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
    paths += `<text x="${left + plotW + 36}" y="${legendY + 16}" font-size="9" fill="#4b5563">p50 ${f(r.latency!.p50)} · p99 ${f(r.latency!.p99)} · p99.9 ${f(r.latency!.p999)} µs</text>`;
    legendY += 34;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="20" font-size="15" font-weight="600">End-to-end latency CDF at ${esc(offered)} (all runs merged)</text>
<text x="8" y="38" font-size="11" fill="#374151">${esc(caption)}</text>
${grid}
<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9ca3af"/>
${paths}
<text x="${left + plotW / 2}" y="${height - 18}" font-size="11" text-anchor="middle">latency from intended send time to the consumer (log scale)</text>
<text x="16" y="${top + plotH / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 16 ${top + plotH / 2})">share of messages at or below</text>
</svg>
`;
}
