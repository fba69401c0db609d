/**
 * Compatibility levels (Confluent Schema Registry's) and the check a new schema must pass
 * against a subject's earlier versions before it is registered.
 *
 * Avro follows Avro's schema-resolution rules through avsc's `createResolver`, which refuses a
 * reader that cannot read a writer: a field the reader lacks and has no default for, a type
 * that does not promote (long → int), an enum symbol the reader lacks, a renamed record without
 * an alias. BACKWARD asks "can the new schema read data written with the previous one", FORWARD
 * "can the previous schema read data written with the new one", FULL both; the `_TRANSITIVE`
 * variants ask it of every earlier version rather than only the latest.
 *
 * JSON Schema is not checked: any JSON Schema follows any other of type JSON (documented in
 * docs/schemas.md). A change of schema type (Avro → JSON) is always incompatible, as in Confluent.
 */
import { invalidArgument, show } from '../errors.js';
import type { ParsedSchema } from './parsed-schema.js';

export const CompatibilityLevels = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

export type CompatibilityLevel = (typeof CompatibilityLevels)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export function isCompatibilityLevel(level: unknown): level is CompatibilityLevel {
  return typeof level === 'string' && (CompatibilityLevels as readonly string[]).includes(level);
}

export function checkCompatibilityLevel(level: unknown): CompatibilityLevel {
  if (!isCompatibilityLevel(level)) throw invalidArgument(`compatibility level must be one of ${CompatibilityLevels.join(', ')} (got ${show(level)})`);
  return level;
}

/** An earlier version of the subject, as the check needs it. */
export interface EarlierVersion {
  readonly version: number;
  readonly schema: ParsedSchema;
}

/**
 * Why `candidate` breaks `level` against `earlier` (oldest first): one message per problem,
 * none when it is compatible.
 */
export function compatibilityProblems(level: CompatibilityLevel, candidate: ParsedSchema, earlier: readonly EarlierVersion[]): string[] {
  if (level === 'NONE' || earlier.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? earlier : earlier.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const problems: string[] = [];
  for (const { version, schema } of against) {
    if (schema.type !== candidate.type) {
      problems.push(`version ${version} is a ${schema.type} schema and the new one ${candidate.type}`);
      continue;
    }
    if (candidate.avro === undefined || schema.avro === undefined) continue;
    if (backward) {
      const why = unreadable(candidate, schema);
      if (why !== undefined) problems.push(`the new schema cannot read data written with version ${version} (${why})`);
    }
    if (forward) {
      const why = unreadable(schema, candidate);
      if (why !== undefined) problems.push(`version ${version} cannot read data written with the new schema (${why})`);
    }
  }
  return problems;
}

/** Why `reader` cannot read what `writer` wrote, by Avro's resolution rules; `undefined` if it can. */
function unreadable(reader: ParsedSchema, writer: ParsedSchema): string | undefined {
  try {
    reader.avro!.createResolver(writer.avro!);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
