/**
 * The `_schemas` topic: where the registry keeps every change, as Confluent Schema Registry does,
 * so that a broker on FileStorage keeps its schemas, ids and levels across restarts.
 *
 * Records use Confluent's format (JSON keys and values, one partition, compacted, kept forever):
 * - a version: key `{"keytype":"SCHEMA","subject":s,"version":v,"magic":1}`, value
 *   `{"subject":s,"version":v,"id":n,"schema":text,"deleted":false}` (+ `"schemaType":"JSON"` when
 *   not Avro); deleting a subject writes the same keys again with `"deleted":true`;
 * - a level: key `{"keytype":"CONFIG","subject":s|null,"magic":0}`, value
 *   `{"compatibilityLevel":level}`, or a null value (tombstone) when the subject's level is removed.
 * Other key types Confluent writes (NOOP, DELETE_SUBJECT …) are skipped on replay.
 *
 * Concurrency: one writer (the registry, which serialises its appends); replay reads the log up
 * to the end it had when replay started.
 */
import type { Broker } from '../broker/broker.js';
import type { Producer } from '../client/producer.js';
import { KafkaliteError, storageCorrupt } from '../errors.js';
import type { Message } from '../types.js';
import { isCompatibilityLevel, type CompatibilityLevel } from './compatibility.js';
import type { SchemaVersion } from './subject-store.js';

export const SCHEMAS_TOPIC = '_schemas';

export type SchemasRecord =
  | { readonly keytype: 'SCHEMA'; readonly entry: SchemaVersion }
  | { readonly keytype: 'CONFIG'; readonly subject: string | null; readonly level: CompatibilityLevel | undefined };

/** The message that records `record` in `_schemas`. */
export function encodeRecord(record: SchemasRecord): Message {
  if (record.keytype === 'CONFIG') {
    return {
      partition: 0,
      key: JSON.stringify({ keytype: 'CONFIG', subject: record.subject, magic: 0 }),
      value: record.level === undefined ? null : JSON.stringify({ compatibilityLevel: record.level }),
    };
  }
  const { subject, version, id, type, schema, deleted } = record.entry;
  return {
    partition: 0,
    key: JSON.stringify({ keytype: 'SCHEMA', subject, version, magic: 1 }),
    value: JSON.stringify({ subject, version, id, ...(type === 'AVRO' ? {} : { schemaType: type }), schema, deleted }),
  };
}

/** The change `_schemas` record holds; `undefined` for key types the registry does not keep. */
export function decodeRecord(key: Buffer | null, value: Buffer | null, offset: number): SchemasRecord | undefined {
  const bad = (why: string): KafkaliteError =>
    storageCorrupt(`${SCHEMAS_TOPIC}-0`, offset, `the record at offset ${offset} is not a schema registry record: ${why}`, { topic: SCHEMAS_TOPIC, partition: 0, offset });
  const k = parseJson(key, bad);
  if (k === null || typeof k !== 'object') throw bad('its key is not a JSON object');
  const { keytype, subject } = k as { keytype?: unknown; subject?: unknown };
  if (keytype === 'CONFIG') {
    if (subject !== null && typeof subject !== 'string') throw bad('a CONFIG key without a subject');
    if (value === null) return { keytype, subject, level: undefined };
    const level = (parseJson(value, bad) as { compatibilityLevel?: unknown } | null)?.compatibilityLevel;
    if (!isCompatibilityLevel(level)) throw bad(`unknown compatibility level ${JSON.stringify(level)}`);
    return { keytype, subject, level };
  }
  if (keytype !== 'SCHEMA') return undefined;
  // A tombstone for a version (Confluent's permanent delete): nothing to restore.
  if (value === null) return undefined;
  const v = parseJson(value, bad) as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object') throw bad('its value is not a JSON object');
  const type = v.schemaType ?? 'AVRO';
  if (
    typeof v.subject !== 'string' ||
    !Number.isSafeInteger(v.version) ||
    !Number.isSafeInteger(v.id) ||
    typeof v.schema !== 'string' ||
    (type !== 'AVRO' && type !== 'JSON')
  ) {
    throw bad('a SCHEMA value needs subject, version, id, schema and an AVRO or JSON schemaType');
  }
  return {
    keytype,
    entry: { subject: v.subject, version: v.version as number, id: v.id as number, type, schema: v.schema, deleted: v.deleted === true },
  };
}

function parseJson(bytes: Buffer | null, bad: (why: string) => KafkaliteError): unknown {
  if (bytes === null) throw bad('it has no key');
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw bad('it is not JSON');
  }
}

/** Reads and appends `_schemas` in one broker. */
export class SchemasTopic {
  readonly #broker: Broker;
  readonly #producer: Producer;

  private constructor(broker: Broker) {
    this.#broker = broker;
    this.#producer = broker.producer();
  }

  /** Creates the topic when the broker has none yet. */
  static async open(broker: Broker): Promise<SchemasTopic> {
    if (!broker.listTopics().includes(SCHEMAS_TOPIC)) {
      await broker.createTopic(SCHEMAS_TOPIC, { partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 }).catch((error: unknown) => {
        // Created by someone else between the check and here: theirs will do.
        if (!(error instanceof KafkaliteError && error.code === 'TOPIC_EXISTS')) throw error;
      });
    }
    return new SchemasTopic(broker);
  }

  /** Feeds every record the topic holds now to `apply`, in offset order. */
  async replay(apply: (record: SchemasRecord) => void): Promise<void> {
    const partition = this.#broker.topic(SCHEMAS_TOPIC).partition(0);
    const end = partition.logEndOffset;
    let offset = partition.logStartOffset;
    while (offset < end) {
      const records = await partition.read(offset, { maxRecords: 1000 });
      if (records.length === 0) break;
      for (const r of records) {
        if (r.offset >= end) return;
        const record = decodeRecord(r.key, r.value, r.offset);
        if (record !== undefined) apply(record);
      }
      offset = records[records.length - 1]!.offset + 1;
    }
  }

  /** Appends `records` as one batch: they reach the log together or not at all. */
  async append(records: readonly SchemasRecord[]): Promise<void> {
    await this.#producer.send({ topic: SCHEMAS_TOPIC, messages: records.map(encodeRecord) });
  }

  close(): Promise<void> {
    return this.#producer.close();
  }
}
