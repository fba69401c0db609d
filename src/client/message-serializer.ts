import { serializationFailed, show } from '../errors.js';
import type { SerdeContext, Serializer } from '../serde/serde.js';
import type { Message } from '../types.js';

/** A producer's `serializers`, as the producer holds them (the types were checked at the call). */
export interface Serializers {
  key?: Serializer<unknown> | undefined;
  value?: Serializer<unknown> | undefined;
}

/**
 * Turns one call's typed messages into byte messages, before anything else looks at them (the
 * key's bytes pick the partition). Returns the new messages at once when every serializer
 * answered synchronously, else a promise of them; either way a serializer that throws, rejects or
 * answers other than bytes fails the whole call with `INVALID_ARGUMENT` (its error as `cause`).
 * `null` keys and values (tombstones) pass through untouched, as do entries that are not objects
 * (the producer's checks refuse them afterwards, with the usual messages).
 */
export function serializeMessages(topic: string, messages: readonly Message<unknown, unknown>[], serializers: Serializers): Message[] | Promise<Message[]> {
  const { key: keySerializer, value: valueSerializer } = serializers;
  const out: Message[] = new Array(messages.length);
  let pending: Promise<void>[] | undefined;
  const keyContext: SerdeContext = { topic, isKey: true };
  const valueContext: SerdeContext = { topic, isKey: false };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (m === null || typeof m !== 'object') {
      out[i] = m as Message;
      continue;
    }
    const copy = { ...m } as Message;
    out[i] = copy;
    const explicit = m.partition !== undefined;
    if (keySerializer !== undefined && m.key != null) {
      const context = explicit ? { topic, isKey: true, partition: m.partition } : keyContext;
      const bytes = run(keySerializer, m.key, context, topic, i);
      if (bytes instanceof Promise) (pending ??= []).push(bytes.then((b) => void (copy.key = b)));
      else copy.key = bytes;
    }
    if (valueSerializer !== undefined && m.value != null) {
      const context = explicit ? { topic, isKey: false, partition: m.partition } : valueContext;
      const bytes = run(valueSerializer, m.value, context, topic, i);
      if (bytes instanceof Promise) (pending ??= []).push(bytes.then((b) => void (copy.value = b)));
      else copy.value = bytes;
    }
  }
  return pending === undefined ? out : Promise.all(pending).then(() => out);
}

/** One serializer call: its bytes, or a promise of them; every failure is the call's INVALID_ARGUMENT. */
function run(serializer: Serializer<unknown>, value: unknown, context: SerdeContext, topic: string, i: number): string | Uint8Array | Promise<string | Uint8Array> {
  const what = `messages[${i}].${context.isKey ? 'key' : 'value'}`;
  let result: unknown;
  try {
    result = serializer.serialize(value, context);
  } catch (error) {
    throw serializationFailed(topic, what, error);
  }
  if (result instanceof Promise) {
    return result.then(
      (bytes: unknown) => checked(bytes, topic, what),
      (error: unknown) => {
        throw serializationFailed(topic, what, error);
      },
    );
  }
  return checked(result, topic, what);
}

function checked(bytes: unknown, topic: string, what: string): string | Uint8Array {
  if (typeof bytes === 'string' || bytes instanceof Uint8Array) return bytes;
  throw serializationFailed(topic, what, new TypeError(`the serializer returned ${show(bytes)}, not a Uint8Array or a string`));
}
