/**
 * SchemaRegistry in process: subjects, versions, global ids, identical schemas, levels, deletes,
 * concurrent un-awaited calls, bad input and close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaRegistry } from 'kafkalite';
import { expectError } from '../helpers.js';

const registries: SchemaRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});
const open = (): SchemaRegistry => {
  const r = new SchemaRegistry();
  registries.push(r);
  return r;
};

const user = (...extra: object[]) => ({
  type: 'record',
  name: 'User',
  namespace: 'com.example',
  fields: [{ name: 'id', type: 'long' }, ...extra],
});
const email = { name: 'email', type: ['null', 'string'], default: null };
const age = { name: 'age', type: 'int' };

describe('SchemaRegistry', () => {
  it('gives versions per subject and ids across subjects; an identical schema keeps its id and version', async () => {
    const r = open();
    expect(await r.register('users-value', user())).toEqual({ id: 1, version: 1 });
    expect(await r.register('users-value', user(email))).toEqual({ id: 2, version: 2 });
    // The same schema as text, spaced differently, is the same schema.
    expect(await r.register('users-value', JSON.stringify(user(email), null, 2))).toEqual({ id: 2, version: 2 });
    // Another subject: its own version 1, the schema's existing id.
    expect(await r.register('audit-value', user())).toEqual({ id: 1, version: 1 });
    expect(await r.register('names-value', '"string"')).toEqual({ id: 3, version: 1 });
    expect(await r.subjects()).toEqual(['audit-value', 'names-value', 'users-value']);
    expect(await r.versions('users-value')).toEqual([1, 2]);
    const latest = await r.latest('users-value');
    expect(latest).toMatchObject({ subject: 'users-value', version: 2, id: 2, type: 'AVRO' });
    expect(JSON.parse(latest.schema)).toMatchObject({ name: 'com.example.User', fields: [{ name: 'id' }, { name: 'email' }] });
    expect(await r.getById(3)).toEqual({ id: 3, type: 'AVRO', schema: '"string"' });
    expect((await r.version('users-value', 1)).id).toBe(1);
    expect(await r.lookup('users-value', user())).toMatchObject({ version: 1, id: 1 });
  });

  it('refuses a change that breaks BACKWARD (the default) and registers nothing', async () => {
    const r = open();
    await r.register('users-value', user());
    const error = await expectError(() => r.register('users-value', user(age)), 'INCOMPATIBLE_SCHEMA', /users-value.*BACKWARD.*version 1.*age/);
    expect(error.message).toContain('nothing was registered');
    expect(await r.versions('users-value')).toEqual([1]);
    // The refused schema took no id: the next schema gets 2.
    expect(await r.register('users-value', user(email))).toEqual({ id: 2, version: 2 });
  });

  it('checks each level in its direction, against the latest or every version', async () => {
    const r = open();
    const v1 = user();
    const v2 = user(email);
    const v3 = user(email, { name: 'age', type: 'int', default: 0 });
    const dropEmail = user({ name: 'age', type: 'int', default: 0 });
    const cases: [string, object[], object, boolean][] = [
      // BACKWARD: the new schema reads old data. Adding a field with a default does; adding one without does not.
      ['BACKWARD', [v1], v2, true],
      ['BACKWARD', [v1], user(age), false],
      // FORWARD: old schemas read new data. Removing a field without a default breaks it.
      ['FORWARD', [v2], v1, true],
      ['FORWARD', [user(age)], v1, false],
      ['FORWARD', [v1], user(age), true],
      // FULL: both.
      ['FULL', [v1], v2, true],
      ['FULL', [v1], user(age), false],
      // Transitive: v1 → v3 is fine against v3's predecessor but not against v1 when a field v1 lacks has no default.
      ['BACKWARD', [v2, user(email, age)], user(email, age, { name: 'x', type: 'int', default: 1 }), true],
      ['BACKWARD_TRANSITIVE', [v1, v2], v3, true],
      ['FORWARD_TRANSITIVE', [user({ name: 'email', type: 'string' }), v2], v1, false],
      ['FORWARD', [user({ name: 'email', type: 'string' }), v2], v1, true],
      ['FORWARD_TRANSITIVE', [user(age), v3], dropEmail, true],
      ['FULL_TRANSITIVE', [v1, v2], v3, true],
      ['NONE', [v1], '"string"' as unknown as object, true],
      ['BACKWARD', [v1], '"string"' as unknown as object, false],
    ];
    for (const [i, [level, earlier, next, ok]] of cases.entries()) {
      const subject = `case-${i}`;
      await r.setCompatibility('NONE', subject);
      for (const s of earlier) await r.register(subject, s);
      await r.setCompatibility(level as 'NONE', subject);
      const check = await r.testCompatibility(subject, next);
      expect(check.compatible, `${level} case ${i}: ${check.messages.join('; ')}`).toBe(ok);
      if (ok) await r.register(subject, next);
      else await expectError(() => r.register(subject, next), 'INCOMPATIBLE_SCHEMA', new RegExp(level));
    }
  });

  it('has a global level and per-subject levels; a subject level wins', async () => {
    const r = open();
    expect(await r.compatibility()).toBe('BACKWARD');
    await r.setCompatibility('NONE');
    await r.setCompatibility('FULL', 'strict');
    expect(await r.compatibility('loose')).toBe('NONE');
    expect(await r.compatibility('strict')).toBe('FULL');
    await r.register('loose', user());
    await r.register('loose', user(age));
    await r.register('strict', user());
    await expectError(() => r.register('strict', user(age)), 'INCOMPATIBLE_SCHEMA', /FULL/);
    await expectError(() => r.setCompatibility('SIDEWAYS' as 'NONE'), 'INVALID_ARGUMENT', /compatibility level must be one of .*"SIDEWAYS"/);
  });

  it('soft-deletes a subject: not listed, ids still resolve, versions continue', async () => {
    const r = open();
    await r.register('s', user());
    await r.register('s', user(email));
    expect(await r.deleteSubject('s')).toEqual([1, 2]);
    expect(await r.subjects()).toEqual([]);
    await expectError(() => r.latest('s'), 'UNKNOWN_SCHEMA', /subject "s"/);
    expect((await r.getById(2)).id).toBe(2);
    // Deleted versions are not checked against: an incompatible schema is version 3.
    expect(await r.register('s', user(age))).toEqual({ id: 3, version: 3 });
    await expectError(() => r.deleteSubject('never'), 'UNKNOWN_SCHEMA', /subject "never"/);
  });

  it('registers JSON Schema with ids and versions; its compatibility is not checked, a change of type is', async () => {
    const r = open();
    const order = { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] };
    expect(await r.register('orders-value', order, { type: 'JSON' })).toEqual({ id: 1, version: 1 });
    expect(await r.register('orders-value', JSON.stringify(order), { type: 'JSON' })).toEqual({ id: 1, version: 1 });
    expect(await r.register('orders-value', { type: 'string' }, { type: 'JSON' })).toEqual({ id: 2, version: 2 });
    expect(await r.getById(2)).toEqual({ id: 2, type: 'JSON', schema: '{"type":"string"}' });
    // The same text as Avro is another schema: another id, and a change of type is incompatible.
    await expectError(() => r.register('orders-value', '"string"'), 'INCOMPATIBLE_SCHEMA', /JSON schema and the new one AVRO/);
    await expectError(() => r.register('x', { type: 'strin' }, { type: 'JSON' }), 'INVALID_SCHEMA', /invalid JSON schema .*"strin"/);
  });

  it('names bad input and changes nothing', async () => {
    const r = open();
    await r.register('s', user());
    await expectError(() => r.register('s', '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}'), 'INVALID_SCHEMA', /invalid AVRO schema .*undefined type name: nope/);
    await expectError(() => r.register('s', '{"type":'), 'INVALID_SCHEMA', /not JSON/);
    await expectError(() => r.register('s', 42), 'INVALID_SCHEMA', /42/);
    await expectError(() => r.register('', user()), 'INVALID_ARGUMENT', /subject must be a non-empty string/);
    await expectError(() => r.register('s', user(), { type: 'PROTOBUF' as 'JSON' }), 'INVALID_ARGUMENT', /'AVRO' or 'JSON' \(got "PROTOBUF"\)/);
    await expectError(() => r.getById(99), 'UNKNOWN_SCHEMA', /schema id 99/);
    await expectError(() => r.getById(-1), 'INVALID_ARGUMENT', /schema id must be a positive integer \(got -1\)/);
    await expectError(() => r.version('s', 7), 'UNKNOWN_SCHEMA', /version 7 of subject "s"/);
    await expectError(() => r.version('s', 0), 'INVALID_ARGUMENT', /version must be a positive integer/);
    await expectError(() => r.lookup('s', user(age)), 'UNKNOWN_SCHEMA', /that schema under subject "s"/);
    expect(() => new SchemaRegistry({ nope: 1 } as object)).toThrow(/unknown SchemaRegistry option "nope"/);
    expect(await r.versions('s')).toEqual([1]);
    expect(await r.register('s', user(email))).toEqual({ id: 2, version: 2 });
  });

  it('gives one id and one version to the same schema registered twice at once', async () => {
    const r = open();
    const calls = [r.register('s', user()), r.register('s', JSON.stringify(user())), r.register('t', user()), r.register('s', user(email)), r.register('t', user(email))];
    const results = await Promise.all(calls);
    expect(results).toEqual([
      { id: 1, version: 1 },
      { id: 1, version: 1 },
      { id: 1, version: 1 },
      { id: 2, version: 2 },
      { id: 2, version: 2 },
    ]);
  });

  it('keeps ids unique and versions dense under interleaved un-awaited calls across subjects', async () => {
    const r = open();
    const schemas = Array.from({ length: 6 }, (_, i) => user(...Array.from({ length: i }, (__, j) => ({ name: `f${j}`, type: 'int', default: j }))));
    const calls: Promise<{ id: number; version: number } | string>[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [i, schema] of schemas.entries()) {
        const subject = `sub-${(i + round) % 3}`;
        // Some calls start in a later macrotask, some with an incompatible schema among them.
        const call = (): Promise<{ id: number; version: number } | string> =>
          r.register(subject, i === 5 && round === 1 ? user(age) : schema).catch((e: { code: string }) => e.code);
        calls.push(round === 2 ? new Promise((resolve) => setTimeout(() => resolve(call()), i)) : call());
      }
    }
    const results = await Promise.all(calls);
    expect(results.filter((x) => typeof x === 'string')).toEqual(['INCOMPATIBLE_SCHEMA']);
    // An id names one schema everywhere; each subject's versions are 1..n without gaps.
    const byId = new Map<number, string>();
    for (const subject of await r.subjects()) {
      const versions = await r.versions(subject);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
      for (const v of versions) {
        const s = await r.version(subject, v);
        expect(byId.get(s.id) ?? s.schema).toBe(s.schema);
        byId.set(s.id, s.schema);
      }
    }
    expect([...byId.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: byId.size }, (_, i) => i + 1));
  });

  it('finishes the changes called before close and refuses the ones after', async () => {
    const r = new SchemaRegistry();
    const first = r.register('s', user());
    const level = r.setCompatibility('FULL', 's');
    const closing = r.close();
    const late = r.register('s', user(email));
    late.catch(() => undefined);
    expect(await first).toEqual({ id: 1, version: 1 });
    await level;
    await closing;
    await expectError(() => late, 'CLOSED', /schema registry is closed/);
    await expectError(() => r.getById(1), 'CLOSED');
    await r.close();
  });
});
