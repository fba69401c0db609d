/**
 * `wire`: kafkalite as a Kafka broker on a TCP port (`broker.listen`), beside the in-process path
 * in the same run.
 *
 * - Produce: kcat (librdkafka 2.0, Debian's) `-P -l` of N × 100-byte messages from a file, timed
 *   from starting kcat until it exits (every message acknowledged, acks=all), beside in-process
 *   batched produce (`send` × 1000, 4 in flight) of the same messages.
 * - Fetch: kcat `-C -e` of a backlog of N × 100-byte messages kept by FileStorage (written before
 *   the timing, page cache warm), output to /dev/null, beside reading the partition's segment
 *   files straight from disk (the ceiling of serving them).
 * - KafkaJS: the real `kafkajs` producer over TCP beside the same code through `kafkalite/kafkajs`
 *   (the price of the socket). Its consumer needs consumer groups (JoinGroup), which the listener
 *   does not serve yet, so these rows time the producer only.
 *
 * kcat rows are `NOT RUN` where kcat is missing (`apt-get install -y kcat`).
 */

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka as KafkaJS, logLevel } from 'kafkajs';
import { Broker, FileStorage, type Message } from 'kafkalite';
import { Kafka as LiteKafka, closeAllClusters } from 'kafkalite/kafkajs';
import { Unavailable, VALUE_SIZE, type Case, type Scenario } from '../lib/harness.js';
import { TOPIC, VALUE } from '../lib/kafkalite.js';

const PER_SEND = 1000;
const KAFKAJS_MESSAGES = 200_000;

function requireKcat(): void {
  const r = spawnSync('kcat', ['-V']);
  if (r.error !== undefined || r.status !== 0) throw new Unavailable('kcat is not installed (apt-get install -y kcat)');
}

/** Runs kcat to its end; rejects with its stderr when it fails. */
function kcat(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kcat ${args.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`))));
    child.on('error', reject);
  });
}

function messagesFor(count: number): Message[] {
  const out: Message[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { value: VALUE };
  return out;
}

/** Sends `messages` in-process, 1000 per send, 4 sends in flight. */
async function produceInProcess(broker: Broker, messages: number): Promise<void> {
  const producer = broker.producer();
  const window: Promise<unknown>[] = [];
  for (let sent = 0; sent < messages; sent += PER_SEND) {
    window.push(producer.send({ topic: TOPIC, messages: messagesFor(Math.min(PER_SEND, messages - sent)) }));
    if (window.length >= 4) await window.shift();
  }
  await Promise.all(window);
  await producer.close();
}

function checkEnd(broker: Broker, messages: number, what: string): void {
  const end = broker.topic(TOPIC).partition(0).logEndOffset;
  if (end !== messages) throw new Error(`${what}: the log ends at ${end}, expected ${messages}`);
}

const inProcessProduce = (messages: number): Case => ({
  name: 'in-process: send×1000, 4 in flight (no consumer)',
  id: 'wire-inprocess-produce',
  messages,
  system: 'kafkalite',
  durability: 'memory',
  async prepare() {
    const broker = await Broker.open();
    await broker.createTopic(TOPIC);
    return {
      run: () => produceInProcess(broker, messages),
      async finish() {
        checkEnd(broker, messages, 'in-process produce');
        await broker.close();
      },
    };
  },
});

const kcatProduce = (messages: number): Case => ({
  name: 'over TCP: kcat -P -l file (acks=all), until kcat exits',
  id: 'wire-kcat-produce',
  messages,
  system: 'kafkalite',
  durability: 'memory',
  async prepare() {
    requireKcat();
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-bench-wire-'));
    const file = join(dir, 'messages.txt');
    // N lines of 100 letters: N values of 100 bytes (the newline is kcat's delimiter).
    const fd = openSync(file, 'w');
    const chunk = Buffer.from(`${'a'.repeat(VALUE_SIZE)}\n`.repeat(10_000));
    for (let left = messages; left > 0; left -= 10_000) writeSync(fd, left >= 10_000 ? chunk : chunk.subarray(0, left * (VALUE_SIZE + 1)));
    closeSync(fd);
    const broker = await Broker.open();
    await broker.createTopic(TOPIC);
    const listener = await broker.listen({ port: 0 });
    return {
      run: () => kcat(['-b', listener.address, '-P', '-t', TOPIC, '-p', '0', '-l', file]),
      async finish() {
        checkEnd(broker, messages, 'kcat -P');
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

/** A FileStorage folder holding `messages` × 100 bytes in topic `bench`, written before the timing. */
async function backlog(messages: number): Promise<{ dir: string; broker: Broker }> {
  const dir = mkdtempSync(join(tmpdir(), 'kafkalite-bench-backlog-'));
  const writer = await Broker.open({ storage: new FileStorage({ dir, fsync: 'never' }) });
  await writer.createTopic(TOPIC);
  await produceInProcess(writer, messages);
  await writer.close();
  const broker = await Broker.open({ storage: new FileStorage({ dir }) });
  return { dir, broker };
}

const rawRead = (messages: number): Case => ({
  name: 'ceiling: read the segment files from disk (page cache warm)',
  id: 'wire-raw-read',
  messages,
  baseline: false,
  system: 'ceiling',
  durability: 'power loss',
  async prepare() {
    const { dir, broker } = await backlog(messages);
    await broker.close();
    const folder = join(dir, `${TOPIC}-0`);
    const logs = readdirSync(folder).filter((n) => n.endsWith('.log')).map((n) => join(folder, n));
    for (const f of logs) readFileSync(f); // warm the page cache, as the kcat row's setup does
    let bytes = 0;
    return {
      run() {
        for (const f of logs) bytes += readFileSync(f).length;
      },
      finish() {
        if (bytes < messages * VALUE_SIZE) throw new Error(`read ${bytes} bytes, fewer than the values alone`);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

const kcatFetch = (messages: number): Case => ({
  name: 'over TCP: kcat -C -e of the backlog (FileStorage), to /dev/null',
  id: 'wire-kcat-fetch',
  messages,
  system: 'kafkalite',
  durability: 'power loss',
  async prepare() {
    requireKcat();
    const { dir, broker } = await backlog(messages);
    const listener = await broker.listen({ port: 0 });
    // Warm the page cache and the broker's indexes with one read through, as the ceiling row does.
    await kcat(['-b', listener.address, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q']);
    return {
      run: () => kcat(['-b', listener.address, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q']),
      async finish() {
        await broker.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

/** KafkaJS' producer (the real package or kafkalite/kafkajs): 1000 messages per send, 4 in flight. */
async function kafkajsProduce(producer: { send(r: { topic: string; acks?: number; messages: { value: Buffer }[] }): Promise<unknown> }, messages: number): Promise<void> {
  const batch = Array.from({ length: PER_SEND }, () => ({ value: VALUE }));
  const window: Promise<unknown>[] = [];
  for (let sent = 0; sent < messages; sent += PER_SEND) {
    window.push(producer.send({ topic: TOPIC, acks: -1, messages: messages - sent >= PER_SEND ? batch : batch.slice(0, messages - sent) }));
    if (window.length >= 4) await window.shift();
  }
  await Promise.all(window);
}

const kafkajsOverTcp = (messages: number): Case => ({
  name: `over TCP: KafkaJS 2.2 producer, send×1000, 4 in flight (${messages.toLocaleString('en-US')} msgs)`,
  id: 'wire-kafkajs-tcp',
  messages,
  system: 'kafkalite',
  durability: 'memory',
  async prepare() {
    const broker = await Broker.open();
    await broker.createTopic(TOPIC);
    const listener = await broker.listen({ port: 0 });
    const producer = new KafkaJS({ brokers: [listener.address], clientId: 'bench', logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    return {
      run: () => kafkajsProduce(producer, messages),
      async finish() {
        checkEnd(broker, messages, 'KafkaJS over TCP');
        await producer.disconnect();
        await broker.close();
      },
    };
  },
});

const kafkajsInProcess = (messages: number): Case => ({
  name: `in-process: the same KafkaJS code through kafkalite/kafkajs (${messages.toLocaleString('en-US')} msgs)`,
  id: 'wire-kafkajs-inprocess',
  messages,
  system: 'kafkalite',
  durability: 'memory',
  async prepare() {
    const kafka = new LiteKafka({ brokers: ['bench:9092'], clientId: 'bench', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic: TOPIC }] });
    const producer = kafka.producer();
    await producer.connect();
    return {
      run: () => kafkajsProduce(producer as never, messages),
      async finish() {
        const offsets = await admin.fetchTopicOffsets(TOPIC);
        if (offsets[0]?.high !== String(messages)) throw new Error(`kafkalite/kafkajs: high watermark ${offsets[0]?.high}, expected ${messages}`);
        await producer.disconnect();
        await admin.disconnect();
        await closeAllClusters();
      },
    };
  },
});

export const wire: Scenario = {
  name: 'wire',
  description: 'broker.listen over TCP: kcat produce and fetch, KafkaJS over TCP, beside the in-process path',
  cases: ({ messages }) => {
    const kafkajs = Math.min(messages, KAFKAJS_MESSAGES);
    return [inProcessProduce(messages), kcatProduce(messages), rawRead(messages), kcatFetch(messages), kafkajsInProcess(kafkajs), kafkajsOverTcp(kafkajs)];
  },
};
