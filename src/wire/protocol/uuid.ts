import { ProtocolError } from './protocol-error.js';

/**
 * Kafka's UUIDs (topic ids) travel as 16 bytes and are shown by Kafka's tools as 22 characters of
 * unpadded base64url (`Uuid.toString()`); the codecs use that string form so that ids compare with
 * `===` and serve as Map keys, and so that what a handler logs matches what `kafka-topics` prints.
 */

/** Kafka's `Uuid.ZERO_UUID`, the default of every uuid field. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i);
  const d = c < 128 ? DIGIT[c]! : -1;
  if (d < 0) throw new ProtocolError(`invalid uuid ${JSON.stringify(s)}: character ${i} is not base64url`);
  return d;
};

/** Renders 16 bytes at `offset` as Kafka's 22-character uuid string. */
export function uuidFromBytes(bytes: Uint8Array, offset: number): string {
  let out = '';
  let p = offset;
  for (let g = 0; g < 5; g++, p += 3) {
    const n = (bytes[p]! << 16) | (bytes[p + 1]! << 8) | bytes[p + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const last = bytes[p]!;
  return out + ALPHABET[last >>> 2]! + ALPHABET[(last & 3) << 4]!;
}

/**
 * Writes the 16 bytes of a uuid string at `offset`. Only the canonical form is accepted (the one
 * {@link uuidFromBytes} produces), so that string → bytes → string is the identity.
 */
export function uuidToBytes(s: string, target: Uint8Array, offset: number): void {
  if (typeof s !== 'string' || s.length !== 22) {
    throw new ProtocolError(`invalid uuid ${JSON.stringify(s)}: expected 22 base64url characters`);
  }
  let p = offset;
  for (let g = 0, i = 0; g < 5; g++, i += 4, p += 3) {
    const n = (digit(s, i) << 18) | (digit(s, i + 1) << 12) | (digit(s, i + 2) << 6) | digit(s, i + 3);
    target[p] = n >>> 16;
    target[p + 1] = (n >>> 8) & 255;
    target[p + 2] = n & 255;
  }
  const hi = digit(s, 20);
  const lo = digit(s, 21);
  if ((lo & 15) !== 0) throw new ProtocolError(`invalid uuid ${JSON.stringify(s)}: not in canonical form`);
  target[p] = (hi << 2) | (lo >>> 4);
}

/** True for a string that {@link uuidToBytes} accepts. */
export function isUuid(s: unknown): s is string {
  if (typeof s !== 'string' || s.length !== 22) return false;
  for (let i = 0; i < 22; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || DIGIT[c]! < 0) return false;
  }
  return (DIGIT[s.charCodeAt(21)]! & 15) === 0;
}
