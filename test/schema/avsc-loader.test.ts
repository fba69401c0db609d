/** avsc is an optional peer dependency: without it, Avro is UNSUPPORTED naming the package, and JSON Schema still works. */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.doUnmock('avsc');
  vi.resetModules();
});

describe('without avsc installed', () => {
  it('rejects Avro with UNSUPPORTED naming the package, and serves JSON Schema', async () => {
    vi.resetModules();
    vi.doMock('avsc', () => {
      throw new Error("Cannot find package 'avsc'");
    });
    const { SchemaRegistry, KafkaliteError } = await import('../../src/index.js');
    const r = new SchemaRegistry();
    const error = await r.register('s', '"string"').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaliteError);
    expect(error).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/optional package 'avsc' is not installed \(npm install avsc\)/) });
    expect(await r.register('j', { type: 'string' }, { type: 'JSON' })).toEqual({ id: 1, version: 1 });
    await r.close();
  });
});
