/**
 * The registry's Confluent REST API: every endpoint over plain HTTP with Confluent's bodies and
 * error codes, and a client no one here wrote (@kafkajs/confluent-schema-registry) registering,
 * encoding and decoding against it — its messages decode with serde.avro and the other way round.
 */
import { SchemaRegistry as ConfluentClient, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaRegistry, serde, type RegistryListener } from 'kafkalite';
import { expectError } from '../helpers.js';

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
});

async function serve(): Promise<{ registry: SchemaRegistry; listener: RegistryListener; url: string }> {
  const registry = new SchemaRegistry();
  closing.push(registry);
  const listener = await registry.listen({ port: 0 });
  return { registry, listener, url: `http://${listener.address}` };
}

interface Answer {
  status: number;
  type: string | null;
  body: unknown;
}
async function call(url: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

const v1 = { type: 'record', name: 'Payment', namespace: 'shop', fields: [{ name: 'id', type: 'string' }, { name: 'cents', type: 'long' }] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'memo', type: ['null', 'string'], default: null }] };
const breaking = { ...v1, fields: [...v1.fields, { name: 'currency', type: 'string' }] };
const schema = (s: object): { schema: string } => ({ schema: JSON.stringify(s) });

describe('registry REST API', () => {
  it("serves Confluent's endpoints with its content type and bodies", async () => {
    const { url } = await serve();
    const post = await call(url, 'POST', '/subjects/payments-value/versions', schema(v1));
    expect(post).toEqual({ status: 200, type: 'application/vnd.schemaregistry.v1+json', body: { id: 1 } });
    expect((await call(url, 'POST', '/subjects/payments-value/versions', schema(v2))).body).toEqual({ id: 2 });
    expect((await call(url, 'POST', '/subjects/payments-value/versions', schema(v2))).body).toEqual({ id: 2 });
    expect((await call(url, 'GET', '/subjects')).body).toEqual(['payments-value']);
    expect((await call(url, 'GET', '/subjects/payments-value/versions')).body).toEqual([1, 2]);
    const latest = (await call(url, 'GET', '/subjects/payments-value/versions/latest')).body as Record<string, unknown>;
    expect(latest).toMatchObject({ subject: 'payments-value', version: 2, id: 2 });
    expect(JSON.parse(latest.schema as string)).toMatchObject({ name: 'shop.Payment' });
    expect((await call(url, 'GET', '/subjects/payments-value/versions/1')).body).toMatchObject({ version: 1, id: 1 });
    expect((await call(url, 'GET', '/subjects/payments-value/versions/-1/schema')).body).toMatchObject({ name: 'shop.Payment' });
    const byId = (await call(url, 'GET', '/schemas/ids/1')).body as { schema: string };
    expect(Object.keys(byId)).toEqual(['schema']);
    expect(JSON.parse(byId.schema).fields).toHaveLength(2);
    expect((await call(url, 'POST', '/subjects/payments-value', schema(v1))).body).toMatchObject({ subject: 'payments-value', version: 1, id: 1 });
    expect((await call(url, 'GET', '/schemas/types')).body).toEqual(['AVRO', 'JSON']);
    // JSON Schema: schemaType travels both ways.
    expect((await call(url, 'POST', '/subjects/events-value/versions', { schemaType: 'JSON', schema: '{"type":"object"}' })).body).toEqual({ id: 3 });
    expect((await call(url, 'GET', '/schemas/ids/3')).body).toEqual({ schema: '{"type":"object"}', schemaType: 'JSON' });
  });

  it('checks compatibility, keeps levels, and refuses with 409', async () => {
    const { url } = await serve();
    // Nothing to be incompatible with yet.
    expect((await call(url, 'POST', '/compatibility/subjects/p/versions/latest', schema(breaking))).body).toEqual({ is_compatible: true });
    await call(url, 'POST', '/subjects/p/versions', schema(v1));
    expect((await call(url, 'POST', '/compatibility/subjects/p/versions/latest', schema(v2))).body).toEqual({ is_compatible: true });
    const verbose = await call(url, 'POST', '/compatibility/subjects/p/versions/1?verbose=true', schema(breaking));
    expect(verbose.body).toMatchObject({ is_compatible: false, messages: [expect.stringMatching(/version 1.*currency/)] });
    const refused = await call(url, 'POST', '/subjects/p/versions', schema(breaking));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error_code: 409, message: expect.stringMatching(/incompatible under BACKWARD/) });
    expect((await call(url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect(await call(url, 'GET', '/config/p')).toMatchObject({ status: 404, body: { error_code: 40408 } });
    expect((await call(url, 'GET', '/config/p?defaultToGlobal=true')).body).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call(url, 'PUT', '/config/p', { compatibility: 'NONE' })).body).toEqual({ compatibility: 'NONE' });
    expect((await call(url, 'GET', '/config/p')).body).toEqual({ compatibilityLevel: 'NONE' });
    expect((await call(url, 'PUT', '/config', { compatibility: 'FULL' })).body).toEqual({ compatibility: 'FULL' });
    expect((await call(url, 'GET', '/config')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await call(url, 'POST', '/subjects/p/versions', schema(breaking))).body).toEqual({ id: 2 });
    expect((await call(url, 'DELETE', '/subjects/p')).body).toEqual([1, 2]);
    expect((await call(url, 'GET', '/subjects')).body).toEqual([]);
  });

  it("answers bad requests with Confluent's error codes, and keeps serving", async () => {
    const { url } = await serve();
    await call(url, 'POST', '/subjects/p/versions', schema(v1));
    const cases: [string, string, unknown, number, number][] = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/nope/versions/1', undefined, 404, 40401],
      ['GET', '/subjects/p/versions/9', undefined, 404, 40402],
      ['GET', '/subjects/p/versions/zero', undefined, 422, 42202],
      ['GET', '/schemas/ids/77', undefined, 404, 40403],
      ['POST', '/subjects/nope', schema(v1), 404, 40401],
      ['POST', '/subjects/p', schema(v2), 404, 40403],
      ['DELETE', '/subjects/nope', undefined, 404, 40401],
      ['POST', '/subjects/p/versions', { schema: '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}' }, 422, 42201],
      ['POST', '/subjects/p/versions', { schema: '{"type":' }, 422, 42201],
      ['POST', '/subjects/p/versions', { schemaType: 'PROTOBUF', schema: 'syntax = "proto3";' }, 422, 42201],
      ['POST', '/subjects/p/versions', {}, 422, 42201],
      ['POST', '/subjects/p/versions', '{not json', 400, 400],
      ['PUT', '/config', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['GET', '/nowhere', undefined, 404, 404],
    ];
    for (const [method, path, body, status, code] of cases) {
      const answer = await call(url, method, path, body);
      expect({ method, path, status: answer.status, code: (answer.body as { error_code: number }).error_code }).toEqual({ method, path, status, code });
      expect((answer.body as { message: string }).message.length).toBeGreaterThan(0);
    }
    expect((await call(url, 'GET', '/subjects/p/versions')).body).toEqual([1]);
  });

  it('serves concurrent registrations: the same schema at once gets one id', async () => {
    const { url } = await serve();
    const answers = await Promise.all([
      call(url, 'POST', '/subjects/a/versions', schema(v1)),
      call(url, 'POST', '/subjects/b/versions', schema(v1)),
      call(url, 'POST', '/subjects/a/versions', schema(v1)),
      call(url, 'POST', '/subjects/a/versions', schema(v2)),
    ]);
    const ids = answers.map((a) => (a.body as { id: number }).id);
    expect(ids.slice(0, 3)).toEqual([1, 1, 1]);
    expect(ids[3]).toBe(2);
  });

  it('closes with the registry, and refuses a port in use', async () => {
    const { registry, listener, url } = await serve();
    const port = Number(listener.address.split(':')[1]);
    await expectError(() => new SchemaRegistry().listen({ port }), 'INVALID_ARGUMENT', new RegExp(`127\\.0\\.0\\.1:${port}`));
    await expectError(() => registry.listen({ port: 70000 }), 'INVALID_ARGUMENT', /port must be an integer from 0 to 65535 \(got 70000\)/);
    await registry.close();
    await expect(fetch(`${url}/subjects`)).rejects.toThrow();
    await listener.close();
    // A listen that close() overtakes does not leave a server behind.
    const other = new SchemaRegistry();
    const late = other.listen({ port: 0 });
    late.catch(() => undefined);
    await other.close();
    await expectError(() => late, 'CLOSED', /schema registry is closed/);
  });
});

describe('@kafkajs/confluent-schema-registry against kafkalite', () => {
  it('registers, encodes and decodes; its messages decode with serde.avro and the other way round', async () => {
    const { registry, url } = await serve();
    const client = new ConfluentClient({ host: url });
    const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject: 'payments-value' });
    expect(id).toBe(1);
    expect(await registry.latest('payments-value')).toMatchObject({ id: 1, version: 1 });
    // Theirs → ours.
    const theirs = await client.encode(id, { id: 'p1', cents: 250 });
    const ours = serde.avro<{ id: string; cents: number }>({ registry, subject: 'payments-value' });
    const context = { topic: 'payments', isKey: false };
    expect(await ours.deserialize(theirs, context)).toEqual({ id: 'p1', cents: 250 });
    // Ours (with v2, registered by the serde) → theirs, which fetches schema 2 from the server.
    const ourV2 = serde.avro({ registry, subject: 'payments-value', schema: v2 });
    const bytes = Buffer.from(await ourV2.serialize({ id: 'p2', cents: 99, memo: 'gift' }, context));
    expect(bytes.readUInt32BE(1)).toBe(2);
    expect(await client.decode(bytes)).toEqual({ id: 'p2', cents: 99, memo: 'gift' });
    // Their old v1 message read into the latest (v2) with the default filled in.
    expect(await ours.deserialize(theirs, context)).toEqual({ id: 'p1', cents: 250, memo: null });
    // Both sides write identical bytes for the same schema and value.
    expect(Buffer.from(await ourV2.serialize({ id: 'p3', cents: 1, memo: null }, context))).toEqual(await client.encode(2, { id: 'p3', cents: 1, memo: null }));
    expect(await client.getLatestSchemaId('payments-value')).toBe(2);
    expect(await client.getRegistryIdBySchema('payments-value', { type: SchemaType.AVRO, schema: JSON.stringify(v1) })).toBe(1);
  });

  it('gets the 409 for an incompatible change, and nothing is registered', async () => {
    const { registry, url } = await serve();
    const client = new ConfluentClient({ host: url });
    await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject: 'payments-value' });
    const error = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(breaking) }, { subject: 'payments-value' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409, message: expect.stringMatching(/incompatible under BACKWARD.*currency/) });
    expect(await registry.versions('payments-value')).toEqual([1]);
    // The client set the subject's level to its own default on first registration.
    expect(await registry.compatibility('payments-value')).toBe('BACKWARD');
  });

  it('registers JSON Schema and frames JSON values that it reads back', async () => {
    const { registry, url } = await serve();
    const client = new ConfluentClient({ host: url });
    const jsonSchema = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };
    const { id } = await client.register({ type: SchemaType.JSON, schema: JSON.stringify(jsonSchema) }, { subject: 'events-value' });
    expect(await registry.getById(id)).toEqual({ id, type: 'JSON', schema: JSON.stringify(jsonSchema) });
    const encoded = await client.encode(id, { id: 5 });
    expect(encoded[0]).toBe(0);
    expect(encoded.readUInt32BE(1)).toBe(id);
    expect(JSON.parse(encoded.subarray(5).toString())).toEqual({ id: 5 });
    // A second client (no cache) fetches the schema by id from the server to decode.
    expect(await new ConfluentClient({ host: url }).decode(encoded)).toEqual({ id: 5 });
  });
});
