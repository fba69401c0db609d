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

  it('loads without the optional codec packages; using one is UNSUPPORTED naming the package, and the broker goes on', async () => {
    const { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    // An app folder with kafkalite and its two dependencies only: no snappy, lz4-napi or fzstd to find.
    const app = mkdtempSync(join(tmpdir(), 'kafkalite-bare-'));
    try {
      const pkg = join(app, 'node_modules', 'kafkalite');
      cpSync(new URL('dist', root).pathname, join(pkg, 'dist'), { recursive: true });
      cpSync(new URL('package.json', root).pathname, join(pkg, 'package.json'));
      for (const dep of ['eventemitter3', 'lru-cache']) symlinkSync(new URL(`node_modules/${dep}`, root).pathname, join(app, 'node_modules', dep));
      const script = `
        const { Broker } = require('kafkalite');
        (async () => {
          const broker = await Broker.open();
          const out = [];
          for (const compression of ['snappy', 'lz4']) {
            await broker.producer({ compression }).send({ topic: 't', messages: [{ value: 'x' }] }).catch((e) => out.push(e.code + ' ' + e.message));
          }
          // A refused send creates nothing: not even its topic.
          out.push(JSON.stringify(broker.listTopics()));
          await broker.producer({ compression: 'gzip' }).send({ topic: 't', messages: [{ value: 'zipped' }] });
          out.push((await broker.topic('t').partition(0).read(0)).map((r) => r.value.toString()).join());
          await broker.close();
          console.log(JSON.stringify(out));
        })();`;
      writeFileSync(join(app, 'main.cjs'), script);
      const r = spawnSync(process.execPath, [join(app, 'main.cjs')], { cwd: app, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([
        'UNSUPPORTED snappy compression needs the package "snappy": npm install snappy',
        'UNSUPPORTED lz4 compression needs the package "lz4-napi": npm install lz4-napi',
        '[]',
        'zipped',
      ]);
    } finally {
      rmSync(app, { recursive: true, force: true });
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
