/**
 * The two Kafka-protocol servers the Kafka backend (`Broker.connect`) is checked against, neither
 * of them the code under test's own in-process path: `kafkalite serve` as a child process (the
 * built CLI), and librdkafka's mock cluster (three brokers, replication 3) — an implementation
 * nobody here wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Broker } from '../../src/index.js';
import { startMockCluster, type MockCluster } from './mock-cluster.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export type ServerKind = 'kafkalite serve' | 'librdkafka mock cluster';
export const SERVER_KINDS: ServerKind[] = ['kafkalite serve', 'librdkafka mock cluster'];

export interface TestServer {
  readonly kind: ServerKind;
  readonly brokers: string[];
  /** Makes a topic (the mock serves no CreateTopics: its own command does it there). */
  createTopic(name: string, partitions: number): Promise<void>;
  /** The mock cluster, for leader moves and broker failures; undefined for `kafkalite serve`. */
  readonly mock: MockCluster | undefined;
  close(): Promise<void>;
}

export async function startServer(kind: ServerKind): Promise<TestServer> {
  if (kind === 'librdkafka mock cluster') {
    const mock = await startMockCluster({ brokers: 3 });
    return { kind, brokers: mock.bootstrap.split(','), mock, createTopic: (name, partitions) => mock.createTopic(name, partitions, 3), close: () => mock.close() };
  }
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm test builds it first (npm run build)`);
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const m = /listening on (\S+)/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`kafkalite serve exited with ${code} before listening: ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    kind,
    brokers: [address],
    mock: undefined,
    createTopic: async (name, partitions) => {
      const admin = await Broker.connect({ brokers: [address], logger: 'silent' });
      try {
        await admin.createTopic(name, { partitions });
      } finally {
        await admin.close();
      }
    },
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Every record of `topic` from the start, through an assigned consumer (no group): what the cluster holds. */
export async function readAll(broker: Broker, topic: string, partitions: number): Promise<{ partition: number; offset: number; key: string; value: string }[]> {
  const consumer = broker.consumer({ autoOffsetReset: 'earliest' });
  const out: { partition: number; offset: number; key: string; value: string }[] = [];
  await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  await consumer.run({ eachMessage: async ({ partition, message }) => void out.push({ partition, offset: message.offset, key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' }) });
  await consumer.caughtUp();
  await consumer.close();
  return out;
}
