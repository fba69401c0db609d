/**
 * Messages between KafkaJS' shapes and kafkalite's. Producing, values are taken as KafkaJS takes
 * them (a Buffer as is, null as a tombstone, anything else as `String(value)`); consuming, offsets
 * and timestamps become strings and every record reads as a RecordBatch v2 entry.
 */

import type { ConsumerRecord, Message as CoreMessage } from '../index.js';
import { KafkaJSNonRetriableError } from './errors.js';
import type { IHeaders, KafkaMessage, Message } from './types.js';

const asBytes = (v: unknown): string | Buffer => (Buffer.isBuffer(v) ? v : typeof v === 'string' ? v : String(v));

/** Checks the messages of one topic as KafkaJS' `send` does. */
export function checkMessages(topic: unknown, messages: unknown): asserts messages is Message[] {
  if (!topic) throw new KafkaJSNonRetriableError('Invalid topic');
  if (!messages || !Array.isArray(messages)) {
    throw new KafkaJSNonRetriableError(`Invalid messages array [${String(messages)}] for topic "${String(topic)}"`);
  }
  const withoutValue = (messages as (Message | undefined)[]).find((m) => m?.value === undefined);
  if (withoutValue !== undefined || messages.some((m) => m == null)) {
    throw new KafkaJSNonRetriableError(`Invalid message without value for topic "${String(topic)}": ${JSON.stringify(withoutValue ?? null)}`);
  }
}

/** A KafkaJS message as kafkalite's producer takes it. */
export function toCoreMessage(message: Message): CoreMessage {
  const out: CoreMessage = { value: message.value === null ? null : asBytes(message.value) };
  if (message.key != null) out.key = asBytes(message.key);
  if (message.partition != null) out.partition = message.partition;
  if (message.timestamp != null) out.timestamp = Number(message.timestamp);
  if (message.headers != null) out.headers = toCoreHeaders(message.headers);
  return out;
}

/**
 * KafkaJS writes a null (or undefined) header value as Kafka's null; kafkalite's records have no
 * null header value yet, so it is written as an empty value (read back as an empty Buffer), never as
 * the text "null".
 */
const headerBytes = (v: unknown): string | Buffer => (v == null ? '' : asBytes(v));

function toCoreHeaders(headers: IHeaders): NonNullable<CoreMessage['headers']> {
  const out: NonNullable<CoreMessage['headers']> = {};
  for (const [name, value] of Object.entries(headers)) {
    // KafkaJS writes an array as the same key once per element, as kafkalite does.
    if (Array.isArray(value)) {
      if (value.length > 0) out[name] = value.map(headerBytes);
    } else {
      out[name] = headerBytes(value);
    }
  }
  return out;
}

/** A kafkalite message back in KafkaJS' shape, as a custom partitioner expects to see it. */
export function toKafkaJSMessage(message: CoreMessage): Message {
  const bytes = (v: string | Uint8Array): Buffer | string => (typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  const out: Message = { value: message.value === null ? null : bytes(message.value) };
  if (message.key != null) out.key = bytes(message.key);
  if (message.partition !== undefined) out.partition = message.partition;
  if (message.timestamp !== undefined) out.timestamp = String(message.timestamp);
  if (message.headers !== undefined) {
    const headers: IHeaders = {};
    for (const [k, v] of Object.entries(message.headers)) headers[k] = Array.isArray(v) ? v.map(bytes) : bytes(v);
    out.headers = headers;
  }
  return out;
}

/** What KafkaJS hands a consumer: a RecordBatch v2 entry (offset and timestamp as strings). */
export interface ConsumedMessage extends KafkaMessage {
  isControlRecord: boolean;
  magicByte: number;
}

export function toKafkaMessage(record: ConsumerRecord): ConsumedMessage {
  return {
    magicByte: 2,
    attributes: 0,
    timestamp: String(record.timestamp),
    offset: String(record.offset),
    key: record.key,
    value: record.value,
    headers: { ...record.headers },
    isControlRecord: false,
  };
}
