/**
 * `serde.avro({ registry, subject })`: Avro values with Confluent's framing, so that any Confluent
 * (de)serializer reads what this writes and the other way round:
 *
 *   byte 0       magic byte, always 0
 *   bytes 1–4    the writer's schema id in the registry, a big-endian unsigned int
 *   bytes 5–     the value in Avro's binary encoding, written with that schema
 *
 * On read the writer's schema is found by its id and the value is read into the reader's schema
 * (the one given, else the subject's latest) through Avro's schema resolution, so a consumer on a
 * newer (or older) compatible schema reads records written with another version.
 */
import { invalidArgument, show } from '../errors.js';
import type { AvroType } from '../schema/avsc-loader.js';
import { parseSchema, type ParsedSchema } from '../schema/parsed-schema.js';
import { parsedSchemaById, SchemaRegistry } from '../schema/schema-registry.js';
import type { Serde, SerdeContext } from './serde.js';

/** Confluent's wire-format magic byte. */
const MAGIC = 0;
const HEADER_BYTES = 5;

export interface AvroSerdeOptions {
  /** Where schemas are registered and found by id. */
  registry: SchemaRegistry;
  /**
   * The subject whose schemas values follow.
   * @default `${topic}-value` for values and `${topic}-key` for keys (Confluent's TopicNameStrategy)
   */
  subject?: string;
  /**
   * The schema to write and read with (JSON text or the parsed schema). It is registered under the
   * subject on first use (Confluent's `auto.register.schemas`: `INCOMPATIBLE_SCHEMA` if the subject
   * does not allow it). Without it, values are written with the subject's latest version and read
   * into it (Confluent's `use.latest.version`).
   */
  schema?: unknown;
}

/** Avro values framed for Confluent's registry. */
export function avro<T = unknown>(options: AvroSerdeOptions): Serde<T> {
  if (options === null || typeof options !== 'object' || !(options.registry instanceof SchemaRegistry)) {
    throw invalidArgument(`serde.avro needs { registry: SchemaRegistry, subject? } (got ${show(options)})`);
  }
  const { registry, subject: fixed, schema } = options;
  if (fixed !== undefined && (typeof fixed !== 'string' || fixed.length === 0)) throw invalidArgument(`serde.avro subject must be a non-empty string (got ${show(fixed)})`);
  const subjectOf = (context: SerdeContext): string => fixed ?? `${context.topic}-${context.isKey ? 'key' : 'value'}`;

  // With a schema of its own: parsed once, registered once per subject (a failure is not kept,
  // so that a later call tries again).
  const own = schema === undefined ? undefined : parseSchema('AVRO', schema);
  own?.catch(() => undefined);
  const registered = new Map<string, Promise<number>>();
  const ownId = (subject: string): Promise<number> => {
    let id = registered.get(subject);
    if (id === undefined) {
      id = registry.register(subject, schema).then((r) => r.id);
      registered.set(subject, id);
      id.catch(() => registered.delete(subject));
    }
    return id;
  };

  /** The id and schema to write with. */
  const writer = async (subject: string): Promise<{ id: number; schema: ParsedSchema }> => {
    if (own !== undefined) return { id: await ownId(subject), schema: await own };
    const { id } = await registry.latest(subject);
    return { id, schema: await parsedSchemaById(registry, id) };
  };
  const reader = async (subject: string): Promise<ParsedSchema> => own ?? parsedSchemaById(registry, (await registry.latest(subject)).id);

  /** Resolvers from a writer's schema (by id) to a reader's, made once per pair. */
  const resolvers = new WeakMap<ParsedSchema, Map<number, ReturnType<AvroType['createResolver']>>>();

  return {
    async serialize(value: T, context: SerdeContext): Promise<Uint8Array> {
      const subject = subjectOf(context);
      const { id, schema: parsed } = await writer(subject);
      const type = avroOf(parsed, `schema id ${id} of subject ${show(subject)}`);
      let body: Buffer;
      try {
        body = type.toBuffer(value);
      } catch (error) {
        // Walked a second time only to say which fields are wrong.
        const problems: string[] = [];
        type.isValid(value, { errorHook: (path, bad) => problems.push(`${path.length === 0 ? 'the value' : path.join('.')} is ${show(bad)}`) });
        const why = problems.length > 0 ? problems.join('; ') : (error as Error).message;
        throw invalidArgument(`value does not match the Avro schema (id ${id}) of subject ${show(subject)}: ${why}`, { topic: context.topic, cause: error });
      }
      const framed = Buffer.allocUnsafe(HEADER_BYTES + body.length);
      framed[0] = MAGIC;
      framed.writeUInt32BE(id, 1);
      body.copy(framed, HEADER_BYTES);
      return framed;
    },

    async deserialize(bytes: Buffer, context: SerdeContext): Promise<T> {
      if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC) {
        throw invalidArgument(
          `not an Avro value in Confluent's framing (magic byte 0 and a 4-byte schema id): ${bytes.length < HEADER_BYTES ? `only ${bytes.length} bytes` : `magic byte ${bytes[0]}`}`,
          { topic: context.topic },
        );
      }
      const id = bytes.readUInt32BE(1);
      const subject = subjectOf(context);
      const written = await parsedSchemaById(registry, id);
      const writerType = avroOf(written, `schema id ${id}`);
      const read = await reader(subject);
      const readerType = avroOf(read, `the reader's schema (subject ${show(subject)})`);
      const body = bytes.subarray(HEADER_BYTES);
      if (read.text === written.text) return writerType.fromBuffer(body) as T;
      let byWriter = resolvers.get(read);
      if (byWriter === undefined) resolvers.set(read, (byWriter = new Map()));
      let resolver = byWriter.get(id);
      if (resolver === undefined) {
        try {
          resolver = readerType.createResolver(writerType);
        } catch (error) {
          throw invalidArgument(`a value written with schema id ${id} cannot be read with the reader's schema of subject ${show(subject)}: ${(error as Error).message}`, {
            topic: context.topic,
            cause: error,
          });
        }
        byWriter.set(id, resolver);
      }
      return readerType.fromBuffer(body, resolver) as T;
    },
  };
}

function avroOf(schema: ParsedSchema, which: string): AvroType {
  if (schema.avro === undefined) throw invalidArgument(`${which} is a ${schema.type} schema, not Avro`);
  return schema.avro;
}
