import { expect } from 'vitest';
import { KafkaliteError, type ErrorCode } from 'kafkalite';

/** Asserts that `fn` throws (or rejects with) a KafkaliteError of `code` whose message matches `message`. */
export async function expectError(fn: () => unknown, code: ErrorCode, message?: RegExp | string): Promise<KafkaliteError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(KafkaliteError);
  const error = caught as KafkaliteError;
  expect(error.code).toBe(code);
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

export const text = (b: Buffer | null): string | null => (b === null ? null : b.toString());
