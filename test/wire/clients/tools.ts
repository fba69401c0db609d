/**
 * External Kafka clients the listener is checked with: Debian's kcat (librdkafka 2.0) and
 * kafka-python (python3-kafka), which `.ci/run` installs. A missing tool fails the test that needs
 * it with a message saying how to install it: these checks must not pass by being skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'vitest';

export const KCAT = 'kcat';
/** Debian's interpreter, where python3-kafka installs (a pyenv `python3` earlier on PATH would not see it). */
export const PYTHON = '/usr/bin/python3';

export function requireKcat(): void {
  const r = spawnSync(KCAT, ['-V'], { encoding: 'utf8' });
  expect(r.error === undefined && r.status === 0, 'kcat is not installed: run `apt-get install -y kcat` (.ci/run does)').toBe(true);
}

export function requireKafkaPython(): void {
  const r = spawnSync(PYTHON, ['-c', 'import kafka; print(kafka.__version__)'], { encoding: 'utf8' });
  expect(r.error === undefined && r.status === 0, `kafka-python is not importable by ${PYTHON}: run \`apt-get install -y python3-kafka\` (.ci/run does)`).toBe(true);
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (stdin optional), with a time limit; never rejects. */
export function run(command: string, args: string[], options: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: '', stderr: String(error) });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

export const kcat = (args: string[], options: Parameters<typeof run>[2] = {}): Promise<Run> => run(KCAT, args, options);

/** Runs a Python script with Debian's interpreter; its last stdout line is parsed as JSON. */
export async function python(script: string, args: string[] = []): Promise<{ result: unknown; run: Run }> {
  const r = await run(PYTHON, ['-c', script, ...args], { timeoutMs: 60_000 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let result: unknown;
  try {
    result = JSON.parse(last);
  } catch {
    result = undefined;
  }
  return { result, run: r };
}

