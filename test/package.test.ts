/**
 * The published package: both builds export the contract's names, and the types are there.
 * Runs against dist/, which `npm test` builds first.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const dist = (file: string): string => new URL(`dist/${file}`, root).pathname;

const contract = ['Broker', 'ManualClock', 'MemoryStorage', 'KafkaliteError', 'partitionForKey'];

describe('package', () => {
  it('has been built (npm test builds before testing)', () => {
    for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) expect(existsSync(dist(file)), file).toBe(true);
  });

  it('exports the contract from the ESM build', async () => {
    const esm = (await import(dist('index.js'))) as Record<string, unknown>;
    for (const name of contract) expect(typeof esm[name], name).toBe('function');
    const Broker = esm.Broker as { open(): Promise<{ createTopic(n: string): Promise<unknown>; listTopics(): string[]; close(): Promise<void> }> };
    const broker = await Broker.open();
    await broker.createTopic('esm');
    expect(broker.listTopics()).toEqual(['esm']);
    await broker.close();
  });

  it('exports the same names from the CommonJS build', async () => {
    const require = createRequire(import.meta.url);
    const cjs = require(dist('index.cjs')) as Record<string, unknown>;
    const esm = (await import(dist('index.js'))) as Record<string, unknown>;
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
  });

  it('exports serde from both builds, working', async () => {
    const require = createRequire(import.meta.url);
    type SerdeExport = { json<T>(): { serialize(v: T, c: unknown): string; deserialize(b: Buffer, c: unknown): T } };
    for (const mod of [require(dist('index.cjs')), await import(dist('index.js'))] as { serde: SerdeExport }[]) {
      const json = mod.serde.json<{ a: number }>();
      const ctx = { topic: 't', isKey: false };
      expect(json.deserialize(Buffer.from(json.serialize({ a: 1 }, ctx)), ctx)).toEqual({ a: 1 });
    }
  });

  it('loads the optional codec packages from both builds (a bundler require shim cannot)', async () => {
    const require = createRequire(import.meta.url);
    type Lite = { Broker: { open(): Promise<LiteBroker> } };
    type LiteBroker = {
      producer(o: object): { send(r: object): Promise<unknown> };
      topic(t: string): { partition(p: number): { read(o: number): Promise<{ value: Buffer }[]> } };
      close(): Promise<void>;
    };
    for (const mod of [require(dist('index.cjs')), await import(dist('index.js'))] as Lite[]) {
      const broker = await mod.Broker.open();
      for (const compression of ['snappy', 'lz4', 'zstd']) {
        await broker.producer({ compression }).send({ topic: compression, messages: [{ value: `packed ${compression}` }] });
        expect((await broker.topic(compression).partition(0).read(0))[0]!.value.toString()).toBe(`packed ${compression}`);
      }
      await broker.close();
    }
  });

  it('declares no internals in its types', async () => {
    const { readFile } = await import('node:fs/promises');
    const dts = await readFile(dist('index.d.ts'), 'utf8');
    expect(dts).toMatch(/declare class Broker/);
    expect(dts).not.toMatch(/export \{[^}]*\bRequestHandler\b/);
    expect(dts).not.toMatch(/export \{[^}]*\bTopicRegistry\b/);
  });
});
