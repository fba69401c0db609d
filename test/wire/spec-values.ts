/**
 * Test-side reading of the spec model: fast-check arbitraries for any message at any version, and
 * the value a decoder must return for an encoded input (fields absent from the version, or left
 * out of the input, come back as their spec default). Written apart from the emitter, so that the
 * round-trip tests check the generated code against a second reading of the same rules.
 */
import fc from 'fast-check';
import { messages } from '../../scripts/kafka-protocol-spec/messages.js';
import { type ResolvedField, type ResolvedMessage, type ResolvedStruct, resolveMessage } from '../../scripts/protocol-gen/resolve.js';
import type { MessageSpec, VersionRange } from '../../scripts/protocol-gen/spec-types.js';
import { uuidFromBytes, ZERO_UUID } from '../../src/wire/protocol/uuid.js';

export { messages };

export type Value = Record<string, unknown>;

const inRange = (r: VersionRange | null | undefined, v: number): boolean => !!r && r[0] <= v && v <= r[1];

export const isFlexible = (spec: MessageSpec, version: number): boolean => inRange(spec.flexibleVersions, version);

export function versionsOf(spec: MessageSpec): number[] {
  const [lo, hi] = spec.validVersions;
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

const resolved = new Map<string, ResolvedMessage>();
export function resolve(spec: MessageSpec): ResolvedMessage {
  let r = resolved.get(spec.name);
  if (!r) resolved.set(spec.name, (r = resolveMessage(spec)));
  return r;
}

function parseInt64(d: string): number {
  return d.startsWith('0x') ? Number.parseInt(d.slice(2), 16) : Number(d);
}

/** The spec default of a field, as a decoder returns it. */
export function defaultOf(f: ResolvedField): unknown {
  const d = f.spec.default;
  if (d === 'null') return null;
  if (f.kind === 'array') return [];
  if (f.kind === 'struct') return defaultStruct(f.struct!);
  switch (f.primitive) {
    case 'bool':
      return d === 'true';
    case 'string':
      return d ?? '';
    case 'uuid':
      return d || ZERO_UUID;
    case 'records':
      return null;
    case 'bytes':
      return new Uint8Array(0);
    default:
      return d === undefined || d === '' ? 0 : parseInt64(d);
  }
}

export function defaultStruct(s: ResolvedStruct): Value {
  const out: Value = {};
  for (const f of s.fields) out[f.name] = defaultOf(f);
  return out;
}

const primitiveArb = (p: string): fc.Arbitrary<unknown> => {
  switch (p) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'int64':
      return fc.oneof(fc.integer({ min: -2, max: 1000 }), fc.maxSafeInteger());
    case 'float64':
      return fc.double();
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 12 });
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => uuidFromBytes(b, 0));
    case 'bytes':
    case 'records':
      // Encoders take one array or a list of chunks; the decoder returns the concatenation.
      return fc.oneof(
        fc.uint8Array({ maxLength: 24 }),
        fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 3 }),
        fc.uint8Array({ minLength: 1024, maxLength: 1100 }),
      );
    default:
      throw new Error(`no arbitrary for ${p}`);
  }
};

const knownTags = (s: ResolvedStruct): Set<number> =>
  new Set(s.fields.filter((f) => f.spec.tag !== undefined).map((f) => f.spec.tag!));

/** Sorted, distinct tags that no field of the struct uses, with small bodies. */
const unknownTaggedArb = (s: ResolvedStruct): fc.Arbitrary<{ tag: number; data: Uint8Array }[]> => {
  const taken = knownTags(s);
  return fc
    .uniqueArray(fc.integer({ min: 0, max: 300 }).filter((t) => !taken.has(t)), { maxLength: 2 })
    .chain((tags) =>
      fc.tuple(...tags.sort((a, b) => a - b).map((tag) => fc.uint8Array({ maxLength: 6 }).map((data) => ({ tag, data })))),
    );
};

/**
 * Values of a struct for encoding at `version`. Fields absent from the version still get values
 * (the encoder must ignore them), keys may be left out (the encoder must write defaults), and nulls
 * appear only where this version allows them.
 */
export function structArb(spec: MessageSpec, s: ResolvedStruct, version: number, depth = 0): fc.Arbitrary<Value> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of s.fields) {
    const present = inRange(f.spec.versions, version);
    const nullable = present ? inRange(f.spec.nullableVersions, version) : false;
    let arb: fc.Arbitrary<unknown>;
    if (f.kind === 'primitive') arb = primitiveArb(f.primitive!);
    else if (f.kind === 'struct') arb = present ? structArb(spec, f.struct!, version, depth + 1) : fc.constant({});
    else if (f.struct) {
      arb = present ? fc.array(structArb(spec, f.struct, version, depth + 1), { maxLength: depth > 2 ? 1 : 3 }) : fc.constant([]);
    } else arb = fc.array(primitiveArb(f.primitive!), { maxLength: 4 });
    model[f.name] = nullable ? fc.option(arb, { nil: null, freq: 4 }) : arb;
  }
  if (spec.flexibleVersions) model.unknownTaggedFields = unknownTaggedArb(s);
  return fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<Value>;
}

export function messageArb(spec: MessageSpec, version: number): fc.Arbitrary<Value> {
  return structArb(spec, resolve(spec).top, version);
}

const concat = (value: unknown): Uint8Array => {
  if (value instanceof Uint8Array) return value;
  const chunks = value as Uint8Array[];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

function expectedField(spec: MessageSpec, f: ResolvedField, value: unknown, version: number): unknown {
  if (value === null) return null;
  if (f.kind === 'struct') return expectedStruct(spec, f.struct!, value as Value, version);
  if (f.kind === 'array') {
    const list = value as unknown[];
    return f.struct ? list.map((e) => expectedStruct(spec, f.struct!, e as Value, version)) : list;
  }
  if (f.primitive === 'bytes' || f.primitive === 'records') return concat(value);
  return value;
}

/** What decoding the encoding of `value` at `version` must give. */
export function expectedStruct(spec: MessageSpec, s: ResolvedStruct, value: Value, version: number): Value {
  const out: Value = {};
  for (const f of s.fields) {
    out[f.name] =
      inRange(f.spec.versions, version) && f.name in value
        ? expectedField(spec, f, value[f.name], version)
        : defaultOf(f);
  }
  const unknown = value.unknownTaggedFields as unknown[] | undefined;
  if (isFlexible(spec, version) && unknown && unknown.length > 0) out.unknownTaggedFields = unknown;
  return out;
}

/**
 * A canonical form for comparison: byte arrays of any class become plain arrays of numbers, and
 * keys whose value is undefined disappear.
 */
export function canon(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(canon);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = canon(v);
    return out;
  }
  return value;
}
