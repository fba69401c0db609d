/**
 * The benchmark peers (better-sqlite3, ioredis, hypercore, hdr-histogram-js) are declared in
 * bench/package.json, not in the root one, so the root `npm ci` does not build SQLite from
 * source. `npm run bench` installs them into bench/node_modules on first use, and again whenever
 * bench/package-lock.json (or Node's module ABI, which the native addon is built for) changed since
 * the last install: a stamp in bench/node_modules/.kafkalite-installed remembers what was
 * installed. After an install it type-checks bench/ against the peers' real types
 * (bench/tsconfig.json), since the root type-check only sees the declarations in types/peers/.
 *
 * Node built-ins only: this runs before anything that needs the peers is loaded.
 */

import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where the stamp of the last install is kept (inside node_modules: it goes when they go). */
export const STAMP = path.join('node_modules', '.kafkalite-installed');

/** What an install is valid for: the lock file's hash and the Node ABI the addon was built for. */
function stampFor(benchDir: string): string {
  const lock = readFileSync(path.join(benchDir, 'package-lock.json'));
  const hash = createHash('sha256').update(lock).digest('hex');
  return `package-lock.json sha256 ${hash}; node ABI ${process.versions.modules} ${process.platform}-${process.arch}`;
}

/** `npm` in bench/, its output captured (shown only when it fails). */
function npm(benchDir: string, args: string[]): SpawnSyncReturns<string> {
  // `npm run bench` exports its own project root as npm_config_local_prefix: a nested npm would
  // install into the root project instead of bench/.
  const env = { ...process.env };
  delete env.npm_config_local_prefix;
  return spawnSync('npm', args, {
    cwd: benchDir,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: process.platform === 'win32',
    maxBuffer: 64 * 1024 * 1024,
  });
}

function tail(r: SpawnSyncReturns<string>, lines = 25): string {
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error === undefined ? '' : String(r.error)}`.trimEnd().split('\n');
  return out.slice(-lines).join('\n');
}

/**
 * Installs the peers unless the stamp says they are current. A failed build of the native addon
 * does not stop the suite: the other peers are installed without install scripts, and the SQLite
 * rows then print NOT RUN with the reason (the next `npm run bench` tries the build again).
 */
export function ensurePeers(benchDir: string): void {
  const stampFile = path.join(benchDir, STAMP);
  const want = stampFor(benchDir);
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === want) return;

  process.stderr.write('installing the benchmark peers (better-sqlite3 builds from source, ~2 min) … ');
  const start = Date.now();
  const installed = npm(benchDir, ['ci', '--no-audit', '--no-fund']);
  const seconds = ((Date.now() - start) / 1000).toFixed(0);
  if (installed.status === 0) {
    writeFileSync(stampFile, `${want}\n`);
    process.stderr.write(`done (${seconds} s)\n`);
    typecheck(benchDir);
    return;
  }

  process.stderr.write(`FAILED after ${seconds} s:\n${tail(installed)}\n`);
  process.stderr.write('installing them without install scripts (better-sqlite3 then stays unbuilt: the SQLite rows print NOT RUN) … ');
  const fallback = npm(benchDir, ['ci', '--no-audit', '--no-fund', '--ignore-scripts']);
  if (fallback.status !== 0) {
    process.stderr.write(`FAILED:\n${tail(fallback)}\n`);
    throw new Error('could not install the benchmark peers (npm ci in bench/): see above');
  }
  process.stderr.write('done (no stamp written: the next run tries the build again)\n');
}

/** bench/ against the peers' real types; a mismatch is reported, and the benchmarks still run. */
function typecheck(benchDir: string): void {
  const root = path.dirname(benchDir);
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) return; // the root devDependencies are not installed: nothing to check with
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(benchDir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  if (r.status === 0) return;
  process.stderr.write(
    `warning: bench/ does not type-check against the installed peers' own types (npm run bench:typecheck); ` +
      `the declarations in bench/types/peers/ may have drifted from them:\n${tail(r, 40)}\n`,
  );
}
