/**
 * The in-process clusters, keyed by the sorted `brokers` list: every `new Kafka({ brokers })`
 * with the same list reaches the same cluster, so two modules of an application (or an
 * application and its test) meet, as they would on a real cluster. A cluster's broker is opened
 * on first use and lives until it is reset.
 *
 * One registry per process: it lives on `globalThis` under a `Symbol.for` key, so the ESM build
 * (`import`) and the CommonJS build (`require`) of `kafkalite/kafkajs` — each bundling its own
 * copy of this module — share it. Applications `require` it (NestJS ≤ 11, every CommonJS app)
 * while their tests `import` it; with a registry per build they would sit on two clusters.
 *
 * Concurrency: single-threaded; a cluster being opened is kept as a promise, so concurrent first
 * uses open one broker.
 */

import { Broker } from '../index.js';
import { Cluster } from './cluster.js';
import { KafkaJSConnectionError, KafkaJSNonRetriableError } from './errors.js';
import type { Kafka } from './kafka.js';

interface Registry {
  /** Open (or opening) clusters by {@link clusterKey}. */
  clusters: Map<string, Promise<Cluster>>;
  /** How each Kafka instance resolves its `brokers` (a list, or KafkaJS' `BrokersFunction`). */
  kafkaBrokers: WeakMap<object, () => Promise<string[]>>;
}

/**
 * The key of the process-wide registry. Versioned: a build whose `Cluster` has another shape
 * (a future major version loaded beside this one) keeps a registry of its own.
 */
const REGISTRY_KEY = Symbol.for('kafkalite/kafkajs cluster registry v1');

const global = globalThis as { [REGISTRY_KEY]?: Registry };
const { clusters, kafkaBrokers } = (global[REGISTRY_KEY] ??= { clusters: new Map(), kafkaBrokers: new WeakMap() });

/**
 * A `brokers` list, or a `Kafka` instance (whose `brokers` are used) — typed loosely, so that an
 * application's instance typed by `kafkajs`' own declarations (a mocked module) is accepted too;
 * anything that is not a kafkalite/kafkajs `Kafka` is refused at run time.
 */
export type ClusterTarget = readonly string[] | Kafka | { producer: unknown; consumer: unknown; admin: unknown };

/** @internal Called by `Kafka`'s constructor. */
export function registerKafka(kafka: Kafka, brokers: () => Promise<string[]>): void {
  kafkaBrokers.set(kafka, brokers);
}

/** The key of a `brokers` list: order does not matter. */
export function clusterKey(brokers: readonly string[]): string {
  return [...brokers].sort().join(',');
}

/** Checks a `brokers` list as KafkaJS does when it connects. */
export function validateBrokers(brokers: unknown): asserts brokers is string[] {
  if (!brokers) throw new KafkaJSNonRetriableError('Failed to connect: brokers should not be null');
  if (!Array.isArray(brokers)) throw new KafkaJSNonRetriableError('Failed to connect: brokers should be an array of "host:port"');
  if (brokers.length === 0) throw new KafkaJSNonRetriableError('Failed to connect: brokers array is empty');
  brokers.forEach((broker: unknown, index) => {
    if (typeof broker !== 'string' || broker.length === 0) {
      throw new KafkaJSNonRetriableError(`Failed to connect: broker at index ${index} is invalid "${typeof broker}"`);
    }
  });
}

/** Resolves a KafkaJS `brokers` option (a list or a function) and checks it. */
export async function resolveBrokers(brokers: unknown): Promise<string[]> {
  let list: unknown = brokers;
  if (typeof brokers === 'function') {
    try {
      list = await (brokers as () => unknown)();
    } catch (e) {
      throw new KafkaJSConnectionError(`Failed to connect: "config.brokers" threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  validateBrokers(list);
  return list;
}

async function brokersOf(target: ClusterTarget): Promise<string[]> {
  if (Array.isArray(target)) return resolveBrokers(target);
  const resolve = kafkaBrokers.get(target as object);
  if (resolve === undefined) throw new KafkaJSNonRetriableError('expected a brokers list or a Kafka instance from kafkalite/kafkajs');
  return resolve();
}

/** @internal The open cluster of a `brokers` list, opened (with a fresh in-memory broker) if needed. */
export async function clusterFor(brokers: readonly string[]): Promise<Cluster> {
  const key = clusterKey(brokers);
  for (;;) {
    let pending = clusters.get(key);
    if (pending === undefined) {
      // The layer reports what goes wrong through each Kafka's own logger (logLevel, logCreator).
      const opening = Broker.open({ logger: 'silent' }).then((broker) => new Cluster(key, brokers, broker, true));
      pending = opening;
      clusters.set(key, opening);
      opening.catch(() => {
        if (clusters.get(key) === opening) clusters.delete(key);
      });
    }
    const cluster = await pending;
    if (cluster.isOpen()) return cluster;
    if (clusters.get(key) === pending) clusters.delete(key);
  }
}

/**
 * Empties the cluster of these brokers (or of this Kafka instance): its broker is closed, and the
 * next client to use it starts on a fresh, empty cluster. Clients survive a reset: a producer or
 * admin simply works on the new cluster, a running consumer stops. Call it between tests.
 * A broker given with {@link attachBroker} is detached, not closed.
 */
export async function resetCluster(target: ClusterTarget): Promise<void> {
  const key = clusterKey(await brokersOf(target));
  const pending = clusters.get(key);
  if (pending === undefined) return;
  clusters.delete(key);
  const cluster = await pending.catch(() => undefined);
  await cluster?.close();
}

/** Resets every cluster: each broker opened by kafkalite/kafkajs is closed. For `afterAll`. */
export async function closeAllClusters(): Promise<void> {
  const all = [...clusters.values()];
  clusters.clear();
  await Promise.all(all.map(async (pending) => (await pending.catch(() => undefined))?.close()));
}

/**
 * The kafkalite Broker behind a cluster (opened if needed): for assertions and test controls
 * that KafkaJS has no word for, e.g. `broker.group(id).lag()` or `partition.read(0)`. Name its
 * type: `await getBroker<Broker>(kafka)` with `import type { Broker } from 'kafkalite'`.
 *
 * (Typed by the caller because this entry point's declarations do not refer to the root's: a
 * shared declaration would move `Broker` out of `kafkalite`'s own `index.d.ts`.)
 */
export async function getBroker<B extends object = object>(target: ClusterTarget): Promise<B> {
  return (await clusterFor(await brokersOf(target))).broker as unknown as B;
}

/**
 * Makes `broker` (a kafkalite `Broker`) the cluster of these brokers, e.g. one opened with a
 * `ManualClock` or other broker options. The cluster in place, if any, is reset first. You keep
 * ownership of `broker`: a reset detaches it without closing it.
 */
export async function attachBroker(target: ClusterTarget, broker: object): Promise<void> {
  for (const method of ['topic', 'group', 'listTopics', 'createTopic', 'producer', 'consumer', 'close']) {
    if (typeof (broker as Record<string, unknown>)[method] !== 'function') {
      throw new KafkaJSNonRetriableError(`attachBroker takes a kafkalite Broker (this object has no ${method}())`);
    }
  }
  const brokers = await brokersOf(target);
  await resetCluster(brokers);
  const key = clusterKey(brokers);
  clusters.set(key, Promise.resolve(new Cluster(key, brokers, broker as Broker, false)));
}
