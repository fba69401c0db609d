/** A registry made on a broker closes with it: its REST server stops, its calls are CLOSED. */
import { describe, expect, it } from 'vitest';
import { Broker, KafkaliteError, SchemaRegistry } from '../../src/index.js';

describe('SchemaRegistry({ broker }) and broker.close()', () => {
  it("the broker's close closes the registry and its REST server, and a new registry may then take the broker's place", async () => {
    const broker = await Broker.open();
    const registry = new SchemaRegistry({ broker });
    await registry.register('s', '"string"');
    const server = await registry.listen({ port: 0 });
    const url = `http://${server.address}/subjects`;
    expect(await (await fetch(url)).json()).toEqual(['s']);
    await broker.close();
    await expect(fetch(url)).rejects.toThrow();
    const error = await registry.register('t', '"int"').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaliteError);
    expect((error as KafkaliteError).code).toBe('CLOSED');
    expect((error as KafkaliteError).message).toContain('schema registry');
  });

  it('one registry per broker; after the registry closes, the broker takes another', async () => {
    const broker = await Broker.open();
    const first = new SchemaRegistry({ broker });
    expect(() => new SchemaRegistry({ broker })).toThrow(/already has a SchemaRegistry/);
    await first.close();
    const second = new SchemaRegistry({ broker });
    await expect(second.register('s', '"string"')).resolves.toEqual({ id: 1, version: 1 });
    await broker.close();
  });
});
