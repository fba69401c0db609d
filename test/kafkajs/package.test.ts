/**
 * The published subpath `kafkalite/kafkajs`: both builds and the types exist and export KafkaJS'
 * names. Runs against dist/, which `npm test` builds first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const dist = (file: string): string => new URL(`dist/${file}`, root).pathname;
const require = createRequire(import.meta.url);

describe('package: kafkalite/kafkajs', () => {
  it('has been built (npm test builds before testing)', () => {
    for (const file of ['kafkajs.js', 'kafkajs.cjs', 'kafkajs.d.ts', 'kafkajs.d.cts']) expect(existsSync(dist(file)), file).toBe(true);
  });

  it('is exported as a subpath, like the root entry', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./kafkajs']).toEqual({
      import: { types: './dist/kafkajs.d.ts', default: './dist/kafkajs.js' },
      require: { types: './dist/kafkajs.d.cts', default: './dist/kafkajs.cjs' },
    });
  });

  it('resolves without "exports" too (TypeScript node10, older bundlers) through kafkajs/package.json, to the same files', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { files: string[]; exports: Record<string, { require: { types: string; default: string }; import: { default: string } }> };
    const stub = JSON.parse(readFileSync(new URL('kafkajs/package.json', root), 'utf8')) as { main: string; module: string; types: string };
    expect(pkg.files).toContain('kafkajs/package.json');
    const exported = pkg.exports['./kafkajs']!;
    const fromStub = (file: string) => `./${new URL(file, new URL('kafkajs/', root)).pathname.slice(new URL(root).pathname.length)}`;
    expect({ main: fromStub(stub.main), module: fromStub(stub.module), types: fromStub(stub.types) }).toEqual({
      main: exported.require.default,
      module: exported.import.default,
      types: exported.require.types,
    });
  });

  it('exports every name of kafkajs from both builds', async () => {
    const esm = (await import(dist('kafkajs.js'))) as Record<string, unknown>;
    const cjs = require(dist('kafkajs.cjs')) as Record<string, unknown>;
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
    for (const name of Object.keys(require('kafkajs') as object)) expect(esm, name).toHaveProperty(name);
    for (const name of ['resetCluster', 'closeAllClusters', 'getBroker', 'attachBroker']) expect(typeof esm[name], name).toBe('function');
  });

  it('runs a round trip from the CommonJS build', async () => {
    const { Kafka, closeAllClusters } = require(dist('kafkajs.cjs')) as typeof import('kafkalite/kafkajs');
    const kafka = new Kafka({ brokers: ['cjs:9092'], logLevel: 0 });
    const producer = kafka.producer();
    await producer.connect();
    const [result] = await producer.send({ topic: 'cjs', messages: [{ value: 'x' }] });
    expect(result).toMatchObject({ topicName: 'cjs', baseOffset: '0' });
    await producer.disconnect();
    await closeAllClusters();
  });

  it('shares one cluster registry between the ESM and the CommonJS build in one process', async () => {
    const esm = (await import(dist('kafkajs.js'))) as typeof import('kafkalite/kafkajs');
    const cjs = require(dist('kafkajs.cjs')) as typeof import('kafkalite/kafkajs');
    expect(cjs.Kafka).not.toBe(esm.Kafka); // two copies of the code…
    const brokers = ['both-builds:9092'];
    const producer = new esm.Kafka({ brokers, logLevel: 0 }).producer();
    await producer.connect();
    await producer.send({ topic: 'shared', messages: [{ key: 'k', value: 'written by import()' }] });
    await producer.disconnect();
    // …one cluster: what the ESM build wrote, the CommonJS build reads.
    const cjsKafka = new cjs.Kafka({ brokers, logLevel: 0 });
    const admin = cjsKafka.admin();
    expect(await admin.listTopics()).toEqual(['shared']);
    expect(await admin.fetchTopicOffsets('shared')).toEqual([{ partition: 0, offset: '1', high: '1', low: '0' }]);
    // Either build resets the cluster, also given a Kafka instance of the other one.
    await esm.resetCluster(cjsKafka);
    expect(await admin.listTopics()).toEqual([]);
    await cjs.closeAllClusters();
  });

  it('declares its types on their own', () => {
    const dts = readFileSync(dist('kafkajs.d.ts'), 'utf8');
    expect(dts).toMatch(/declare class Kafka/);
    expect(dts).not.toMatch(/from '\.\/[^']*'/); // no chunk shared with the root entry
  });
});
