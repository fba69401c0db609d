import { ProtocolError } from './protocol-error.js';

/**
 * Small helpers the generated codecs share. They are plain functions so that generated code stays
 * straight-line: no closures, no per-field objects.
 */

/** The default of a non-nullable bytes field; frozen in practice (it has no elements to change). */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Refuses a null where the version does not allow one, naming the field. */
export function notNull<T>(value: T | null, field: string, version: number): T {
  if (value === null) throw new ProtocolError(`${field} is null, which version ${version} does not allow`);
  return value;
}

export function unsupportedVersion(message: string, version: number, min: number, max: number): ProtocolError {
  return new ProtocolError(`${message} version ${version} is not supported (versions ${min}-${max})`);
}
