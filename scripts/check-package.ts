/**
 * Checks the package as it is published: packs it (`npm pack`, from the current dist/) into a
 * temporary folder and runs, on the tarball,
 *
 *   - @arethetypeswrong/cli: every entry point (`kafkalite`, `kafkalite/kafkajs`) resolves, with
 *     types matching its JavaScript, under every TypeScript module resolution (node10 — what
 *     `"module": "commonjs"` without `moduleResolution` gets, as NestJS' generated tsconfig —,
 *     node16 from CommonJS and from ESM, bundler);
 *   - publint --strict: package.json's fields and files agree with what is packed (warnings fail).
 *
 * Exits non-zero on any problem. Run by `npm test` after the build; alone: `npm run check:package`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function run(command: string, args: string[]): void {
  // The project's own pinned copies (devDependencies), never a download.
  execFileSync('npx', ['--no-install', command, ...args], { cwd: root, stdio: 'inherit' });
}

const dir = mkdtempSync(join(tmpdir(), 'kafkalite-pack-'));
try {
  execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball to ${dir}`);
  run('attw', [join(dir, tarball)]);
  run('publint', ['--strict', join(dir, tarball)]);
} catch (error) {
  console.error(`check:package failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
