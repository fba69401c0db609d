import { invalidArgument, show } from '../errors.js';

/**
 * `serializers` / `deserializers`: an object whose `key` and `value`, where given, have the method
 * `method`. Undefined when neither side has one, so the hot path checks one field.
 */
export function checkSerdes<T extends object>(given: unknown, option: string, method: string): T | undefined {
  if (given === undefined) return undefined;
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw invalidArgument(`${option} must be an object { key?, value? } (got ${show(given)})`);
  const out: Record<string, unknown> = {};
  for (const [side, serde] of Object.entries(given)) {
    if (side !== 'key' && side !== 'value') throw invalidArgument(`${option} takes only key and value (got ${show(side)})`);
    if (serde === undefined) continue;
    if (serde === null || typeof serde !== 'object' || typeof (serde as Record<string, unknown>)[method] !== 'function') {
      throw invalidArgument(`${option}.${side} must be an object with a ${method}() method (got ${show(serde)})`);
    }
    out[side] = serde;
  }
  return Object.keys(out).length === 0 ? undefined : (out as T);
}
