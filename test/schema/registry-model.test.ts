/**
 * Model test: random sequences of register / setCompatibility / deleteSubject, fired without
 * awaiting (some in later macrotasks, some after close()), against a sequential model of
 * Confluent's rules applied in call order. Compatibility in the model comes from avsc's resolver
 * on the schema pool, computed here. Every call's outcome and the final state must match the
 * model, and a registry reopened over the same `_schemas` must hold the same state.
 */
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Broker, SchemaRegistry, type CompatibilityLevel } from 'kafkalite';

const avsc = createRequire(import.meta.url)('avsc') as typeof import('avsc');

const field = (name: string, type: unknown, withDefault?: unknown): object => (withDefault === undefined ? { name, type } : { name, type, default: withDefault });
/** A pool of versions of one record, some compatible with each other, some not. */
const POOL = [
  [field('id', 'long')],
  [field('id', 'long'), field('email', ['null', 'string'], null)],
  [field('id', 'long'), field('age', 'int')],
  [field('id', 'long'), field('age', 'int', 0)],
  [field('id', 'int')],
  [field('id', 'long'), field('email', ['null', 'string'], null), field('age', 'int', 0)],
].map((fields) => ({ type: 'record', name: 'User', fields }));
const types = POOL.map((s) => avsc.Type.forSchema(s as never));
/** canRead[r][w]: schema r reads data written with schema w. */
const canRead = types.map((r) =>
  types.map((w) => {
    try {
      r.createResolver(w);
      return true;
    } catch {
      return false;
    }
  }),
);
const LEVELS: CompatibilityLevel[] = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'];
const SUBJECTS = ['a', 'b', 'c'];

type Op =
  | { kind: 'register'; subject: string; schema: number }
  | { kind: 'level'; subject: string | undefined; level: CompatibilityLevel }
  | { kind: 'delete'; subject: string }
  | { kind: 'close' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('register' as const), subject: fc.constantFrom(...SUBJECTS), schema: fc.nat(POOL.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('level' as const), subject: fc.option(fc.constantFrom(...SUBJECTS), { nil: undefined }), level: fc.constantFrom(...LEVELS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), subject: fc.constantFrom(...SUBJECTS) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
);

/** Confluent's rules, one call at a time. */
class Model {
  readonly versions = new Map<string, { version: number; schema: number; id: number; deleted: boolean }[]>();
  readonly ids = new Map<number, number>(); // schema index → id
  readonly levels = new Map<string | null, CompatibilityLevel>();
  closed = false;

  apply(op: Op): unknown {
    if (op.kind === 'close') {
      this.closed = true;
      return 'closed';
    }
    if (this.closed) return 'CLOSED';
    if (op.kind === 'level') {
      this.levels.set(op.subject ?? null, op.level);
      return undefined;
    }
    const all = this.versions.get(op.subject) ?? [];
    const live = all.filter((v) => !v.deleted);
    if (op.kind === 'delete') {
      if (live.length === 0) return 'UNKNOWN_SCHEMA';
      for (const v of live) v.deleted = true;
      return live.map((v) => v.version);
    }
    const same = live.find((v) => v.schema === op.schema);
    if (same !== undefined) return { id: same.id, version: same.version };
    const level = this.levels.get(op.subject) ?? this.levels.get(null) ?? 'BACKWARD';
    const against = level === 'NONE' ? [] : level.endsWith('_TRANSITIVE') ? live : live.slice(-1);
    const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
    const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
    for (const v of against) {
      if (backward && !canRead[op.schema]![v.schema]) return 'INCOMPATIBLE_SCHEMA';
      if (forward && !canRead[v.schema]![op.schema]) return 'INCOMPATIBLE_SCHEMA';
    }
    let id = this.ids.get(op.schema);
    if (id === undefined) this.ids.set(op.schema, (id = this.ids.size + 1));
    const version = Math.max(0, ...all.map((v) => v.version)) + 1;
    all.push({ version, schema: op.schema, id, deleted: false });
    this.versions.set(op.subject, all);
    return { id, version };
  }
}

async function stateOf(registry: SchemaRegistry): Promise<unknown> {
  const state: Record<string, unknown> = { global: await registry.compatibility() };
  for (const subject of await registry.subjects()) {
    const versions = await Promise.all((await registry.versions(subject)).map((v) => registry.version(subject, v)));
    state[subject] = { level: await registry.compatibility(subject), versions: versions.map((v) => [v.version, v.id]) };
  }
  return state;
}

function modelState(model: Model): unknown {
  const state: Record<string, unknown> = { global: model.levels.get(null) ?? 'BACKWARD' };
  for (const subject of [...model.versions.keys()].sort()) {
    const live = model.versions.get(subject)!.filter((v) => !v.deleted);
    if (live.length === 0) continue;
    state[subject] = { level: model.levels.get(subject) ?? model.levels.get(null) ?? 'BACKWARD', versions: live.map((v) => [v.version, v.id]) };
  }
  return state;
}

describe('SchemaRegistry model', () => {
  it('matches a sequential model of Confluent\'s rules under un-awaited, interleaved calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(opArb, fc.constantFrom('now', 'microtask', 'macrotask')), { minLength: 1, maxLength: 30 }), async (script) => {
        const broker = await Broker.open();
        const registry = new SchemaRegistry({ broker });
        const model = new Model();
        const calls: { op: Op; outcome: Promise<unknown> }[] = [];
        const fire = (op: Op): void => {
          const run = (): Promise<unknown> => {
            switch (op.kind) {
              case 'register':
                return registry.register(op.subject, POOL[op.schema]);
              case 'level':
                return registry.setCompatibility(op.level, op.subject);
              case 'delete':
                return registry.deleteSubject(op.subject);
              case 'close':
                return registry.close().then(() => 'closed');
            }
          };
          // The call order is the order the calls are made in, which the model follows.
          calls.push({ op, outcome: run().catch((e: { code: string }) => e.code) });
        };
        const started: Promise<void>[] = [];
        for (const [op, when] of script) {
          if (when === 'now') fire(op);
          else if (when === 'microtask') started.push(Promise.resolve().then(() => fire(op)));
          else started.push(new Promise((resolve) => setTimeout(() => resolve(fire(op)), 0)));
        }
        await Promise.all(started);
        const outcomes = await Promise.all(calls.map((c) => c.outcome));
        expect(outcomes).toEqual(calls.map((c) => model.apply(c.op)));
        await registry.close();
        // What _schemas holds replays into the same state.
        const reopened = new SchemaRegistry({ broker });
        expect(await stateOf(reopened)).toEqual(modelState(model));
        await reopened.close();
        await broker.close();
      }),
      { numRuns: 60 },
    );
  });
});
