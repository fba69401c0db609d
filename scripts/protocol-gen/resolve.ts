import { type FieldSpec, type MessageSpec, type VersionRange, intersect } from './spec-types.js';

/**
 * Resolves a message spec into what the emitter needs: every field's kind and TypeScript name,
 * every struct (inline or common) with the versions in which it can actually occur.
 */

export const PRIMITIVES = [
  'bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'records', 'uuid',
] as const;
export type Primitive = (typeof PRIMITIVES)[number];

const isPrimitive = (t: string): t is Primitive => (PRIMITIVES as readonly string[]).includes(t);

export interface ResolvedStruct {
  readonly kafkaName: string;
  /** Kafka's name prefixed with the message name (unless it already starts with it). */
  readonly tsName: string;
  readonly fields: ResolvedField[];
  /** Hull of the versions in which this struct can occur in its message; null if never. */
  possible: VersionRange | null;
  readonly isTopLevel: boolean;
}

export interface ResolvedField {
  readonly spec: FieldSpec;
  /** camelCase, as Kafka's generator names accessors. */
  readonly name: string;
  readonly kind: 'primitive' | 'array' | 'struct';
  /** The primitive type (kind primitive) or the array's element type (kind array of primitives). */
  readonly primitive: Primitive | null;
  /** The struct (kind struct) or the array's element struct. */
  readonly struct: ResolvedStruct | null;
}

export interface ResolvedMessage {
  readonly spec: MessageSpec;
  readonly top: ResolvedStruct;
  /** Every struct other than the top level, in order of first appearance. */
  readonly structs: ResolvedStruct[];
}

export const camelCase = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/**
 * A struct's TypeScript name, unique across all APIs: Kafka's name under the message's name —
 * kept if it already starts with it (MetadataResponseTopic), with the API's name replaced
 * (FetchRequest's FetchPartition → FetchRequestPartition), else prefixed (NodeEndpoint →
 * FetchResponseNodeEndpoint).
 */
export function structTsName(messageName: string, structName: string): string {
  if (structName.startsWith(messageName)) return structName;
  const api = messageName.replace(/(Request|Response)$/, '');
  const rest = structName.slice(api.length);
  if (api !== messageName && structName.startsWith(api) && /^[A-Z]/.test(rest)) return `${messageName}${rest}`;
  return `${messageName}${structName}`;
}

export function resolveMessage(spec: MessageSpec): ResolvedMessage {
  const byName = new Map<string, ResolvedStruct>();
  const order: ResolvedStruct[] = [];
  const common = new Map((spec.commonStructs ?? []).map((s) => [s.name, s]));

  const structFor = (name: string, inline: readonly FieldSpec[] | undefined, where: string): ResolvedStruct => {
    const known = byName.get(name);
    if (known) {
      if (inline) throw new Error(`${where}: struct ${name} is defined twice`);
      return known;
    }
    const fields = inline ?? common.get(name)?.fields;
    if (!fields) throw new Error(`${where}: unknown struct ${name}`);
    const struct: ResolvedStruct = {
      kafkaName: name,
      tsName: structTsName(spec.name, name),
      fields: [],
      possible: null,
      isTopLevel: false,
    };
    byName.set(name, struct);
    order.push(struct);
    struct.fields.push(...fields.map((f) => resolveField(f, `${where}.${f.name}`)));
    return struct;
  };

  const resolveField = (f: FieldSpec, where: string): ResolvedField => {
    const name = camelCase(f.name);
    if (f.type.startsWith('[]')) {
      const elem = f.type.slice(2);
      if (isPrimitive(elem)) {
        if (f.fields) throw new Error(`${where}: array of ${elem} has fields`);
        return { spec: f, name, kind: 'array', primitive: elem, struct: null };
      }
      return { spec: f, name, kind: 'array', primitive: null, struct: structFor(elem, f.fields, where) };
    }
    if (isPrimitive(f.type)) return { spec: f, name, kind: 'primitive', primitive: f.type, struct: null };
    return { spec: f, name, kind: 'struct', primitive: null, struct: structFor(f.type, f.fields, where) };
  };

  const top: ResolvedStruct = {
    kafkaName: spec.name,
    tsName: spec.name,
    fields: spec.fields.map((f) => resolveField(f, spec.name)),
    possible: spec.validVersions,
    isTopLevel: true,
  };

  // Widen each struct's possible versions to the hull of every place it occurs, until stable.
  const visit = (struct: ResolvedStruct, range: VersionRange): void => {
    const old = struct.possible;
    const hull: VersionRange = old ? [Math.min(old[0], range[0]), Math.max(old[1], range[1])] : range;
    if (!struct.isTopLevel && old && hull[0] === old[0] && hull[1] === old[1]) return;
    struct.possible = hull;
    for (const field of struct.fields) {
      const present = intersect(field.spec.versions, hull);
      if (present && field.struct) visit(field.struct, present);
    }
  };
  visit(top, spec.validVersions);
  return { spec, top, structs: order };
}
