/**
 * A `redis-server` of the bench's own: Debian's binary, started on 127.0.0.1 on a free port in a
 * temporary folder, with or without an append-only file, and stopped when the row's process is
 * done (also when a row fails: `onCleanup`, plus a last-resort kill on exit). Nothing here talks
 * to any address but 127.0.0.1.
 *
 * Clients are `ioredis`, imported lazily so the rest of the suite runs when it is missing.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { Tally, Unavailable, VALUE_SIZE, collectGarbage, onCleanup, type Case, type Sample } from '../harness.js';
import { LatencyRecorder, pacedTrial } from '../latency.js';

/** `no`: no persistence (everything in memory); `everysec` / `always`: AOF with that appendfsync. */
export type RedisPersistence = 'no' | 'everysec' | 'always';

export const REDIS_INSTALL_HINT = 'redis-server is not installed: on Debian/Ubuntu `sudo apt-get install -y redis-server` (only the binary is used; the bench starts its own server)';

export interface RedisServer {
  port: number;
  version: string;
  /** A new client connection (closed by `stop`). */
  client(): Promise<Redis>;
}

/** `KAFKALITE_BENCH_REDIS_SERVER` (a path) wins; else `redis-server` on PATH or in the usual folders. */
function findRedisServer(): string | undefined {
  const configured = process.env.KAFKALITE_BENCH_REDIS_SERVER;
  if (configured !== undefined) return existsSync(configured) ? configured : undefined;
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'redis-server');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function loadIoredis(): Promise<typeof import('ioredis').Redis> {
  try {
    const mod = await import('ioredis');
    return mod.Redis;
  } catch (error) {
    throw new Unavailable(`ioredis is not installed in bench/node_modules (npm run bench installs it): ${error instanceof Error ? error.message : String(error)}`);
  }
}

const servers = new Map<RedisPersistence, Promise<RedisServer>>();

/** The row process's server with this persistence, started on first use. */
export function redisServer(persistence: RedisPersistence): Promise<RedisServer> {
  let server = servers.get(persistence);
  if (server === undefined) {
    server = startRedis(persistence);
    servers.set(persistence, server);
  }
  return server;
}

async function startRedis(persistence: RedisPersistence): Promise<RedisServer> {
  const binary = findRedisServer();
  if (binary === undefined) throw new Unavailable(REDIS_INSTALL_HINT);
  const RedisClient = await loadIoredis();
  const port = await freePort();
  const dir = mkdtempSync(path.join(process.env.KAFKALITE_BENCH_DIR ?? tmpdir(), 'kafkalite-bench-redis-'));
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--save', '',
    '--appendonly', persistence === 'no' ? 'no' : 'yes',
    // No background AOF rewrite in the middle of a timed run (each run starts with FLUSHALL).
    ...(persistence === 'no' ? [] : ['--appendfsync', persistence, '--auto-aof-rewrite-percentage', '0']),
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--logfile', '',
    '--loglevel', 'warning',
  ];
  const proc: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  proc.on('exit', () => (exited = true));
  const kill = (): void => {
    if (!exited) proc.kill('SIGKILL');
  };
  process.on('exit', kill);

  const clients: Redis[] = [];
  const connect = async (): Promise<Redis> => {
    const c = new RedisClient({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true });
    await c.connect();
    clients.push(c);
    return c;
  };

  // Wait until it answers PING (up to 5 s).
  let first: Redis | undefined;
  for (let attempt = 0; first === undefined; attempt++) {
    if (exited) throw new Error(`redis-server exited at start: ${stderr.trim()}`);
    try {
      const c = new RedisClient({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c.on('error', () => undefined);
      await c.connect();
      await c.ping();
      first = c;
      clients.push(c);
    } catch {
      if (attempt > 100) throw new Error(`redis-server on 127.0.0.1:${port} did not answer: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const info = await first.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';

  onCleanup(async () => {
    servers.delete(persistence);
    for (const c of clients) c.disconnect();
    if (!exited) {
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(kill, 5000);
      await gone;
      clearTimeout(timer);
    }
    process.off('exit', kill);
    rmSync(dir, { recursive: true, force: true });
  });
  return { port, version, client: connect };
}

/** `used_memory` of the server in bytes (allocator-accounted, INFO memory). */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

// ---- rows ---------------------------------------------------------------------------------------


const KEY = 'bench';
const VALUE = Buffer.alloc(VALUE_SIZE, 0x61);
const PER_PIPELINE = 1000;

/** What Redis Streams lack next to kafkalite, for the "does not offer" notes. */
export const REDIS_LACKS =
  'a separate server process (TCP round trips); no partitions (one stream = one ordered log, shard by hand); ' +
  'no rebalancing of a group over partitions (XAUTOCLAIM by hand); memory-bound (no segments on disk)';

type StreamEntries = [id: Buffer, fields: Buffer[] | null][];
type XReadReply = [key: Buffer, entries: StreamEntries][] | null;

/** A fresh, empty stream with `groups` consumer groups reading from the start. */
async function freshStream(redis: Redis, groups: number): Promise<void> {
  await redis.flushall();
  for (let g = 0; g < groups; g++) await redis.xgroup('CREATE', KEY, `g${g}`, '0', 'MKSTREAM');
}

/** `count` XADDs in pipelines of 1000, up to `inFlight` pipelines outstanding. */
async function xaddPipelined(redis: Redis, count: number, inFlight: number): Promise<void> {
  const window: Promise<unknown>[] = [];
  for (let sent = 0; sent < count; sent += PER_PIPELINE) {
    const n = Math.min(PER_PIPELINE, count - sent);
    const pipeline = redis.pipeline();
    for (let i = 0; i < n; i++) pipeline.xadd(KEY, '*', 'v', VALUE);
    window.push(
      pipeline.exec().then((results) => {
        const failed = results?.find(([error]) => error !== null);
        if (failed !== undefined) throw failed[0];
      }),
    );
    if (window.length >= inFlight) await window.shift();
  }
  await Promise.all(window);
}

/** A group's consumer: XREADGROUP up to 1000 (blocking 100 ms), then XACK them (pipelined behind the next read). */
async function xreadgroupAll(redis: Redis, group: string, tally: Tally, total: number): Promise<void> {
  let ack: Promise<unknown> | undefined;
  while (tally.count < total) {
    const reply = (await redis.xreadgroupBuffer('GROUP', group, 'c', 'COUNT', 1000, 'BLOCK', 100, 'STREAMS', KEY, '>')) as XReadReply;
    if (reply === null) continue;
    for (const [, entries] of reply) {
      const ids: Buffer[] = new Array(entries.length);
      for (let i = 0; i < entries.length; i++) {
        const [id, fields] = entries[i]!;
        ids[i] = id;
        tally.add({ offset: tally.nextOffset, value: fields?.[1] ?? null });
      }
      if (ids.length > 0) ack = redis.xack(KEY, group, ...ids);
    }
  }
  await ack;
}

export interface RedisRowOptions {
  name: string;
  id?: string;
  messages: number;
  persistence: RedisPersistence;
  /** Consumer groups reading every entry (0: produce only, the run ends when every XADD was answered). */
  groups: number;
  maxRuns?: number;
}

const durabilityOf = (p: RedisPersistence): string =>
  p === 'no' ? 'memory' : p === 'everysec' ? 'process crash (AOF fsync every 1 s)' : 'power loss (AOF fsync before reply)';

/** XADD pipelined ×1000 (4 pipelines in flight) → `groups` groups XREADGROUP COUNT 1000 + XACK. */
export function redisPipelinedCase(o: RedisRowOptions): Case {
  const deliveries = o.messages * Math.max(1, o.groups);
  return {
    name: o.name,
    ...(o.id === undefined ? {} : { id: o.id }),
    messages: o.groups > 1 ? deliveries : o.messages,
    system: 'Redis Streams',
    durability: durabilityOf(o.persistence),
    lacks: REDIS_LACKS,
    ...(o.maxRuns === undefined ? {} : { maxRuns: o.maxRuns }),
    async prepare() {
      const server = await redisServer(o.persistence);
      const producer = await server.client();
      await freshStream(producer, o.groups);
      const readers = await Promise.all(Array.from({ length: o.groups }, () => server.client()));
      const tallies = readers.map(() => new Tally());
      return {
        async run() {
          await Promise.all([
            xaddPipelined(producer, o.messages, 4),
            ...readers.map((r, g) => xreadgroupAll(r, `g${g}`, tallies[g]!, o.messages)),
          ]);
        },
        async finish() {
          const length = await producer.xlen(KEY);
          if (length !== o.messages) throw new Error(`${o.name}: stream holds ${length}, expected ${o.messages}`);
          tallies.forEach((t, g) => t.verify(o.messages, `${o.name} (group ${g})`));
          for (const r of readers) r.disconnect();
          await producer.flushall();
        },
      };
    },
  };
}

/** One XADD awaited at a time; one group reads with XREADGROUP BLOCK + XACK, concurrently. */
export function redisAwaitedCase(name: string, messages: number, maxRuns?: number): Case {
  return {
    name,
    messages,
    system: 'Redis Streams',
    durability: durabilityOf('no'),
    lacks: REDIS_LACKS,
    ...(maxRuns === undefined ? {} : { maxRuns }),
    async prepare() {
      const server = await redisServer('no');
      const producer = await server.client();
      const reader = await server.client();
      await freshStream(producer, 1);
      const tally = new Tally();
      return {
        async run() {
          const produce = async (): Promise<void> => {
            for (let i = 0; i < messages; i++) await producer.xadd(KEY, '*', 'v', VALUE);
          };
          await Promise.all([produce(), xreadgroupAll(reader, 'g0', tally, messages)]);
        },
        async finish() {
          tally.verify(messages, name);
          reader.disconnect();
          await producer.flushall();
        },
      };
    },
  };
}

/** Latency at a fixed offered rate: XADD per message (not awaited) → XREADGROUP BLOCK + XACK. */
export function redisLatencyCase(name: string, rate: number, messages: number): Case {
  return {
    name,
    messages,
    kind: 'latency',
    rate,
    system: 'Redis Streams',
    durability: durabilityOf('no'),
    lacks: REDIS_LACKS,
    async prepare() {
      const server = await redisServer('no');
      const producer = await server.client();
      const reader = await server.client();
      await freshStream(producer, 1);
      const errors: unknown[] = [];
      const latency = new LatencyRecorder(messages);
      // Entries arrive in XADD order (one connection, one stream): the n-th entry is message n.
      const consume = async (): Promise<void> => {
        let ack: Promise<unknown> | undefined;
        while (latency.count < messages) {
          const reply = (await reader.xreadgroupBuffer('GROUP', 'g0', 'c', 'COUNT', 1000, 'BLOCK', 100, 'STREAMS', KEY, '>')) as XReadReply;
          if (reply === null) continue;
          for (const [, entries] of reply) {
            for (let i = 0; i < entries.length; i++) latency.record(latency.count);
            if (entries.length > 0) ack = reader.xack(KEY, 'g0', ...entries.map(([id]) => id));
          }
        }
        await ack;
      };
      return pacedTrial(latency, {
        rate,
        send() {
          producer.xadd(KEY, '*', 'v', VALUE).catch((e: unknown) => errors.push(e));
        },
        consume,
        async close() {
          if (errors.length > 0) throw new Error(`${name}: ${String(errors[0])}`);
          reader.disconnect();
          await producer.flushall();
        },
      });
    },
  };
}

/** Server memory (`used_memory`) for `messages` retained stream entries, XADD pipelined. */
export function redisMemoryCase(name: string, messages: number): Case {
  return {
    name,
    messages,
    kind: 'memory',
    system: 'Redis Streams',
    durability: durabilityOf('no'),
    lacks: REDIS_LACKS,
    async prepare() {
      const server = await redisServer('no');
      const redis = await server.client();
      await freshStream(redis, 0);
      const before = await redisUsedMemory(redis);
      return {
        async run() {
          await xaddPipelined(redis, messages, 4);
        },
        async finish(): Promise<Sample> {
          collectGarbage();
          const after = await redisUsedMemory(redis);
          const length = await redis.xlen(KEY);
          if (length !== messages) throw new Error(`${name}: stream holds ${length}, expected ${messages}`);
          await redis.flushall();
          return { retainedBytes: after - before };
        },
      };
    },
  };
}
