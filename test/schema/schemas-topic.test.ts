/**
 * The registry keeps everything in the `_schemas` topic, in Confluent's record format: reopened
 * over the same FileStorage it has its subjects, versions, ids, levels and deletes again; records
 * written by hand in Confluent's format are read; a damaged record is STORAGE_CORRUPT.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, FileStorage, SchemaRegistry } from 'kafkalite';
import { expectError } from '../helpers.js';

const dirs: string[] = [];
const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kafkalite-schemas-'));
  dirs.push(dir);
  return dir;
};
async function openBroker(dir: string): Promise<Broker> {
  const broker = await Broker.open({ storage: new FileStorage({ dir }) });
  closing.push(broker);
  return broker;
}

const user = (...extra: object[]) => ({ type: 'record', name: 'User', fields: [{ name: 'id', type: 'long' }, ...extra] });
const email = { name: 'email', type: ['null', 'string'], default: null };
const age = { name: 'age', type: 'int' };

describe('_schemas', () => {
  it('restores subjects, versions, ids, levels and deletes when a FileStorage broker is reopened', async () => {
    const dir = tempDir();
    let broker = await openBroker(dir);
    let registry = new SchemaRegistry({ broker });
    await registry.register('users-value', user());
    await registry.register('users-value', user(email));
    await registry.register('audit-value', user());
    await registry.register('gone-value', '"string"');
    await registry.register('events-value', { type: 'object' }, { type: 'JSON' });
    await registry.setCompatibility('FULL');
    await registry.setCompatibility('NONE', 'audit-value');
    await registry.deleteSubject('gone-value');
    expect(broker.listTopics()).toContain('_schemas');
    await registry.close();
    await broker.close();

    broker = await openBroker(dir);
    registry = new SchemaRegistry({ broker });
    closing.push(registry);
    expect(await registry.subjects()).toEqual(['audit-value', 'events-value', 'users-value']);
    expect(await registry.versions('users-value')).toEqual([1, 2]);
    expect(await registry.latest('users-value')).toMatchObject({ id: 2, version: 2 });
    expect(await registry.getById(3)).toMatchObject({ schema: '"string"' });
    expect(await registry.getById(4)).toEqual({ id: 4, type: 'JSON', schema: '{"type":"object"}' });
    expect(await registry.compatibility()).toBe('FULL');
    expect(await registry.compatibility('audit-value')).toBe('NONE');
    expect(await registry.compatibility('users-value')).toBe('FULL');
    // The same schema again: its old id and version. A new one: the next id, and FULL still holds.
    expect(await registry.register('users-value', user(email))).toEqual({ id: 2, version: 2 });
    await expectError(() => registry.register('users-value', user(email, age)), 'INCOMPATIBLE_SCHEMA', /FULL/);
    expect(await registry.register('users-value', user(email, { ...age, default: 0 }))).toEqual({ id: 5, version: 3 });
    // The deleted subject continues its numbering.
    expect(await registry.register('gone-value', '"string"')).toEqual({ id: 3, version: 2 });
  });

  it("with storage of its own, keeps _schemas there and releases it on close", async () => {
    const dir = tempDir();
    const registry = new SchemaRegistry({ storage: new FileStorage({ dir }) });
    expect(await registry.register('s', user())).toEqual({ id: 1, version: 1 });
    await registry.close();
    const again = new SchemaRegistry({ storage: new FileStorage({ dir }) });
    closing.push(again);
    expect(await again.latest('s')).toMatchObject({ id: 1, version: 1 });
    await again.close();
    // The folder's lock is free again.
    const broker = await openBroker(dir);
    expect(broker.listTopics()).toEqual(['_schemas']);
  });

  it('fails on a locked folder without keeping the failure: the next call opens it', async () => {
    const dir = tempDir();
    const holder = await Broker.open({ storage: new FileStorage({ dir }) });
    const registry = new SchemaRegistry({ storage: new FileStorage({ dir }) });
    closing.push(registry);
    await expectError(() => registry.register('s', '"string"'), 'STORAGE_LOCKED');
    await holder.close();
    expect(await registry.register('s', '"string"')).toEqual({ id: 1, version: 1 });
  });

  it("writes Confluent's record format", async () => {
    const broker = await Broker.open();
    closing.push(broker);
    const registry = new SchemaRegistry({ broker });
    closing.push(registry);
    await registry.register('s', '"string"');
    await registry.register('j', '{"type":"string"}', { type: 'JSON' });
    await registry.setCompatibility('FORWARD', 's');
    await registry.deleteSubject('j');
    const records = await broker.topic('_schemas').partition(0).read(0);
    const json = (b: Buffer | null): unknown => (b === null ? null : JSON.parse(b.toString()));
    expect(records.map((r) => [json(r.key), json(r.value)])).toEqual([
      [{ keytype: 'SCHEMA', subject: 's', version: 1, magic: 1 }, { subject: 's', version: 1, id: 1, schema: '"string"', deleted: false }],
      [{ keytype: 'SCHEMA', subject: 'j', version: 1, magic: 1 }, { subject: 'j', version: 1, id: 2, schemaType: 'JSON', schema: '{"type":"string"}', deleted: false }],
      [{ keytype: 'CONFIG', subject: 's', magic: 0 }, { compatibilityLevel: 'FORWARD' }],
      [{ keytype: 'SCHEMA', subject: 'j', version: 1, magic: 1 }, { subject: 'j', version: 1, id: 2, schemaType: 'JSON', schema: '{"type":"string"}', deleted: true }],
    ]);
    expect(broker.topic('_schemas').config).toMatchObject({ partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 });
  });

  it('reads records another registry wrote in Confluent\'s format, skipping key types it does not keep', async () => {
    const broker = await Broker.open();
    closing.push(broker);
    await broker.producer().send({
      topic: '_schemas',
      messages: [
        { key: '{"keytype":"NOOP","magic":0}', value: null },
        { key: '{"keytype":"CONFIG","subject":null,"magic":0}', value: '{"compatibilityLevel":"NONE"}' },
        { key: '{"keytype":"SCHEMA","subject":"t","version":1,"magic":1}', value: '{"subject":"t","version":1,"id":7,"schema":"\\"long\\"","deleted":false}' },
        { key: '{"keytype":"DELETE_SUBJECT","subject":"t","magic":0}', value: '{"subject":"t","version":1}' },
        { key: '{"keytype":"CONFIG","subject":"t","magic":0}', value: '{"compatibilityLevel":"FULL"}' },
        { key: '{"keytype":"CONFIG","subject":"t","magic":0}', value: null },
      ],
    });
    const registry = new SchemaRegistry({ broker });
    closing.push(registry);
    expect(await registry.latest('t')).toEqual({ subject: 't', version: 1, id: 7, type: 'AVRO', schema: '"long"' });
    expect(await registry.compatibility()).toBe('NONE');
    expect(await registry.compatibility('t')).toBe('NONE');
    // Ids continue after the highest one read.
    expect(await registry.register('u', '"int"')).toEqual({ id: 8, version: 1 });
  });

  it('refuses to start on a damaged record, naming its offset', async () => {
    const broker = await Broker.open();
    closing.push(broker);
    await broker.producer().send({
      topic: '_schemas',
      messages: [
        { key: '{"keytype":"CONFIG","subject":null,"magic":0}', value: '{"compatibilityLevel":"NONE"}' },
        { key: '{"keytype":"SCHEMA","subject":"t","version":1,"magic":1}', value: '{"subject":"t"}' },
      ],
    });
    const registry = new SchemaRegistry({ broker });
    closing.push(registry);
    const error = await expectError(() => registry.subjects(), 'STORAGE_CORRUPT', /_schemas-0 .*offset 1 is not a schema registry record/);
    expect(error).toMatchObject({ topic: '_schemas', partition: 0, offset: 1 });
  });

  it('allows one registry per broker at a time', async () => {
    const broker = await Broker.open();
    closing.push(broker);
    const first = new SchemaRegistry({ broker });
    expect(() => new SchemaRegistry({ broker })).toThrow(/that broker already has a SchemaRegistry/);
    expect(() => new SchemaRegistry({ broker, storage: new FileStorage({ dir: tempDir() }) })).toThrow(/storage or broker, not both/);
    await first.register('s', '"string"');
    await first.close();
    const second = new SchemaRegistry({ broker });
    closing.push(second);
    expect(await second.latest('s')).toMatchObject({ id: 1 });
  });
});
