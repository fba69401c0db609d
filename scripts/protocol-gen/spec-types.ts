/**
 * The message-spec model the generator works from: Kafka's message JSON with the version strings
 * parsed ("3+" → [3, 32767]) and what only documents the wire format left out (about, entityType,
 * mapKey, comments). Produced by import-specs.ts, read by emit-codec.ts and by the tests.
 */

/** Highest version number; "N+" ranges end here, as in Kafka's Versions class. */
export const MAX_VERSION = 32767;

/** An inclusive version range [min, max]. */
export type VersionRange = readonly [number, number];

export interface FieldSpec {
  /** Kafka's PascalCase field name. */
  readonly name: string;
  /** Kafka's type notation: int32, string, records, []int32, []SomeStruct, SomeStruct … */
  readonly type: string;
  readonly versions: VersionRange;
  readonly nullableVersions?: VersionRange;
  readonly tag?: number;
  readonly taggedVersions?: VersionRange;
  /** Override of the message's flexible versions (null: never flexible); string/bytes only. */
  readonly flexibleVersions?: VersionRange | null;
  /** The default as Kafka's spec writes it ("-1", "null", "0x7fffffff", "true" …). */
  readonly default?: string;
  readonly ignorable?: boolean;
  /** Fields of an inline struct (array of structs or struct). */
  readonly fields?: readonly FieldSpec[];
}

export interface StructSpec {
  readonly name: string;
  readonly versions: VersionRange;
  readonly fields: readonly FieldSpec[];
}

export interface MessageSpec {
  readonly name: string;
  readonly type: 'request' | 'response' | 'header';
  readonly apiKey?: number;
  readonly validVersions: VersionRange;
  /** null: no flexible version. */
  readonly flexibleVersions: VersionRange | null;
  readonly latestVersionUnstable?: boolean;
  readonly fields: readonly FieldSpec[];
  readonly commonStructs?: readonly StructSpec[];
}

export interface SpecSource {
  readonly repository: string;
  readonly ref: string;
  readonly commit: string;
  readonly path: string;
}

/** Intersection of two ranges, or null when empty. */
export function intersect(a: VersionRange | null | undefined, b: VersionRange | null | undefined): VersionRange | null {
  if (!a || !b) return null;
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo <= hi ? [lo, hi] : null;
}

/** True when `inner` lies within `outer`. */
export function contains(outer: VersionRange | null | undefined, inner: VersionRange): boolean {
  return !!outer && outer[0] <= inner[0] && inner[1] <= outer[1];
}

/** Kafka's version-string syntax: "none", "N", "N+", "N-M". */
export function parseVersions(text: string): VersionRange | null {
  const s = text.trim();
  if (s === 'none') return null;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return [Number(m[1]), MAX_VERSION];
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (hi < lo) throw new Error(`invalid version range ${JSON.stringify(text)}`);
    return [lo, hi];
  }
  m = /^(\d+)$/.exec(s);
  if (m) return [Number(m[1]), Number(m[1])];
  throw new Error(`invalid version range ${JSON.stringify(text)}`);
}

export function formatVersions(r: VersionRange | null | undefined): string {
  if (!r) return 'none';
  if (r[1] === MAX_VERSION) return `${r[0]}+`;
  return r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`;
}
