/**
 * A schema as the registry keeps it: its type, the canonical text that decides whether two
 * registrations are "the same schema", and (for Avro) the parsed `avsc` type that compatibility
 * checks and the Avro serde use.
 */
import { invalidArgument, invalidSchema, show } from '../errors.js';
import { loadAvsc, type AvroType } from './avsc-loader.js';

/** What a schema is written in: Avro (the default, as in Confluent's registry) or JSON Schema. */
export type SchemaType = 'AVRO' | 'JSON';

export const SCHEMA_TYPES: readonly SchemaType[] = ['AVRO', 'JSON'];

export interface ParsedSchema {
  readonly type: SchemaType;
  /**
   * The schema as JSON text in one normal form: Avro through avsc (full names, attributes kept,
   * whitespace gone); JSON Schema as `JSON.stringify` of what was given. Equal text = same schema.
   */
  readonly text: string;
  /** The Avro type, for `type: 'AVRO'`. */
  readonly avro?: AvroType;
}

const JSON_TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);

export function checkSchemaType(type: unknown): SchemaType {
  if (type === undefined) return 'AVRO';
  if (type !== 'AVRO' && type !== 'JSON') throw invalidArgument(`schema type must be 'AVRO' or 'JSON' (got ${show(type)})`);
  return type;
}

/**
 * Parses `schema` (JSON text, as Confluent's API carries it, or the parsed value) as `type`.
 * Bad text or a schema the type's rules refuse is `INVALID_SCHEMA` naming it.
 */
export async function parseSchema(type: SchemaType, schema: unknown): Promise<ParsedSchema> {
  let value: unknown = schema;
  if (typeof schema === 'string') {
    try {
      value = JSON.parse(schema);
    } catch (error) {
      throw invalidSchema(type, schema, `not JSON (${(error as Error).message})`);
    }
  } else if (schema === null || (typeof schema !== 'object' && typeof schema !== 'boolean')) {
    throw invalidSchema(type, schema, 'a schema is JSON text or a parsed JSON value (an object, an array or a string)');
  }
  if (type === 'JSON') return { type, text: JSON.stringify(checkJsonSchema(schema, value)) };
  const avsc = await loadAvsc();
  let avro: AvroType;
  try {
    avro = avsc.Type.forSchema(value as Parameters<typeof avsc.Type.forSchema>[0]);
  } catch (error) {
    throw invalidSchema(type, schema, (error as Error).message);
  }
  return { type, text: JSON.stringify(avro.schema({ exportAttrs: true })), avro };
}

/**
 * JSON Schema is checked only for its shape: an object or a boolean, whose `type` (if any) names
 * JSON Schema's types. kafkalite does not validate values against it (see docs/schemas.md).
 */
function checkJsonSchema(given: unknown, value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidSchema('JSON', given, 'a JSON Schema is an object or a boolean');
  }
  const type = (value as { type?: unknown }).type;
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  for (const t of types) {
    if (typeof t !== 'string' || !JSON_TYPES.has(t)) throw invalidSchema('JSON', given, `"type" ${show(t)} is not one of ${[...JSON_TYPES].join(', ')}`);
  }
  return value;
}
