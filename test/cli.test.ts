/**
 * `kafkalite serve` (dist/cli.js, the package's `bin`), run as a child process: help, bad usage,
 * the banner, serving a client, a clean close on SIGTERM and SIGINT (data fsynced, lock
 * released), and failures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { ApiKey } from '../src/wire/protocol/index.js';
import { clientBatch, produceRequest } from './wire/listener-helpers.js';
import { WireClient } from './wire/wire-client.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  banner: Promise<string>;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function start(args: string[]): Started {
  expect(existsSync(CLI), 'dist/cli.js is missing: npm test builds it first (npm run build)').toBe(true);
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const banner = new Promise<string>((resolve) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, banner, exit };
}

const addressOf = (banner: string): string => /listening on (\S+)/.exec(banner)![1]!;

describe('kafkalite serve', () => {
  it('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await start(['--help']).exit;
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: kafkalite serve');
    expect(stdout).toContain('--schema-registry');
  });

  it.each([
    [['serve', '--port', 'x'], /--port must be an integer/],
    [['serve', '--partitions', '0'], /--partitions must be an integer from 1/],
    [['serve', '--nope'], /Unknown option '--nope'/],
    [['start'], /unknown command: start/],
    [[], /missing command/],
    [['serve', '--schema-registry', 'x'], /--schema-registry must be an integer from 0 to 65535/],
  ])('bad usage %j exits 2 with a message and the usage', async (args, message) => {
    const { code, stderr } = await start(args).exit;
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('Usage: kafkalite serve');
  });

  it('serves memory storage on a free port, prints one banner line, and closes cleanly on SIGINT', async () => {
    const s = start(['serve', '--port', '0', '--partitions', '3']);
    const banner = await s.banner;
    expect(banner).toMatch(/^kafkalite listening on 127\.0\.0\.1:\d+ \(bootstrap server\), storage: memory, 3 partitions per new topic$/);
    const c = await WireClient.connect(addressOf(banner));
    const md = await c.request(ApiKey.Metadata, 9, { topics: [{ name: 'auto' }], allowAutoTopicCreation: true });
    expect(md.topics[0]!.partitions).toHaveLength(3);
    c.close();
    s.child.kill('SIGINT');
    expect((await s.exit).code).toBe(0);
  });

  it('with --dir keeps what a client produced: on SIGTERM it is fsynced and the folder unlocked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-cli-'));
    dirs.push(dir);
    const s = start(['serve', '--port', '0', '--dir', dir]);
    const banner = await s.banner;
    expect(banner).toContain(`storage: ${dir}`);
    const c = await WireClient.connect(addressOf(banner));
    await c.request(ApiKey.CreateTopics, 4, { timeoutMs: 1000, validateOnly: false, topics: [{ name: 'kept', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }] });
    const r = await c.request(ApiKey.Produce, 9, produceRequest('kept', 0, clientBatch(['one', 'two'])));
    expect(r.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    c.close();
    s.child.kill('SIGTERM');
    expect((await s.exit).code).toBe(0);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(existsSync(join(dir, '.kafka_cleanshutdown'))).toBe(true);
    const broker = await Broker.open({ storage: new FileStorage({ dir }) });
    expect((await broker.topic('kept').partition(0).read(0)).map((x) => x.value!.toString())).toEqual(['one', 'two']);
    await broker.close();
    expect(readFileSync(join(dir, 'topics.json'), 'utf8')).toContain('"kept"');
  });

  it('with --schema-registry serves the registry REST API, keeping schemas in --dir through a SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-cli-'));
    dirs.push(dir);
    const registryOf = (banner: string): string => /schema registry on (http:\/\/\S+)$/.exec(banner)![1]!;
    const first = start(['serve', '--port', '0', '--dir', dir, '--schema-registry', '0']);
    const url = registryOf(await first.banner);
    const schema = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }] });
    const post = (path: string, body: unknown): Promise<unknown> =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify(body) }).then((r) => r.json());
    expect(await post('/subjects/orders-value/versions', { schema })).toEqual({ id: 1 });
    expect(await post('/subjects/orders-value/versions', { schema: '"string"' })).toMatchObject({ error_code: 409 });
    // Killed without a chance to close: what the registry acknowledged was fsynced.
    first.child.kill('SIGKILL');
    await first.exit;
    const second = start(['serve', '--port', '0', '--dir', dir, '--schema-registry', '0']);
    const again = registryOf(await second.banner);
    const kept = (await fetch(`${again}/schemas/ids/1`).then((r) => r.json())) as { schema: string };
    expect(JSON.parse(kept.schema)).toEqual(JSON.parse(schema));
    expect(await fetch(`${again}/subjects`).then((r) => r.json())).toEqual(['orders-value']);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
    const broker = await Broker.open({ storage: new FileStorage({ dir }) });
    expect(broker.listTopics()).toEqual(['_schemas']);
    await broker.close();
  });

  it('exits 1 with the reason when it cannot serve: a port in use, a folder locked by another broker', async () => {
    const first = start(['serve', '--port', '0']);
    const port = addressOf(await first.banner).split(':')[1]!;
    const taken = await start(['serve', '--port', port]).exit;
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(new RegExp(`INVALID_ARGUMENT: cannot listen on 127.0.0.1:${port} \\(EADDRINUSE`));
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-cli-'));
    dirs.push(dir);
    const holder = await Broker.open({ storage: new FileStorage({ dir }) });
    const locked = await start(['serve', '--port', '0', '--dir', dir]).exit;
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/STORAGE_LOCKED/);
    await holder.close();
    const registryTaken = await start(['serve', '--port', '0', '--schema-registry', port]).exit;
    expect(registryTaken.code).toBe(1);
    expect(registryTaken.stderr).toMatch(new RegExp(`INVALID_ARGUMENT: cannot serve the schema registry on 127.0.0.1:${port}`));
    first.child.kill('SIGTERM');
    expect((await first.exit).code).toBe(0);
  });
});
