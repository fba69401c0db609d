/**
 * Files lost from a FileStorage folder are STORAGE_CORRUPT, never a silent gap or an empty log;
 * one damaged batch leaves the records before it readable, and names topic, partition and offset.
 */
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage } from 'kafkalite';
import { expectError, text } from '../../helpers.js';
import { tempDir, useStorages } from './fs-helpers.js';

const { dirs } = useStorages();

async function hundred(dir: string): Promise<string[]> {
  const b = await Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' });
  await b.createTopic('t', { segmentBytes: 2000, retentionMs: -1 });
  const p = b.producer();
  for (let i = 0; i < 100; i++) await p.send({ topic: 't', messages: [{ value: `value-${i}` }] });
  await b.close();
  return readdirSync(join(dir, 't-0'))
    .filter((f) => f.endsWith('.log'))
    .sort();
}

describe('FileStorage: lost files are found out', () => {
  it('a segment missing between two others is STORAGE_CORRUPT at open', async () => {
    const dir = tempDir('missing-seg');
    dirs.push(dir);
    const segments = await hundred(dir);
    expect(segments.length).toBeGreaterThan(3);
    rmSync(join(dir, 't-0', segments[1]!));
    const error = await expectError(() => Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' }), 'STORAGE_CORRUPT', /a segment in between is missing/);
    expect([error.topic, error.partition]).toEqual(['t', 0]);
  });

  it('a missing partition folder (or last segment) is STORAGE_CORRUPT when the checkpoint says records were on disk', async () => {
    const dir = tempDir('missing-dir');
    dirs.push(dir);
    const segments = await hundred(dir);
    const copy = tempDir('missing-last');
    dirs.push(copy);
    rmSync(copy, { recursive: true });
    const { cpSync } = await import('node:fs');
    cpSync(dir, copy, { recursive: true });
    rmSync(join(dir, 't-0'), { recursive: true });
    await expectError(() => Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' }), 'STORAGE_CORRUPT', /offsets below 100 were on disk/);
    rmSync(join(copy, 't-0', segments.at(-1)!));
    await expectError(() => Broker.open({ storage: new FileStorage({ dir: copy }), logger: 'silent' }), 'STORAGE_CORRUPT', /were on disk at the last checkpoint/);
  });

  it('a damaged batch in a sealed segment: the records before it are read, then STORAGE_CORRUPT with topic, partition and offset', async () => {
    const dir = tempDir('damaged-mid');
    dirs.push(dir);
    const segments = await hundred(dir);
    const second = join(dir, 't-0', segments[1]!);
    const bytes = readFileSync(second);
    const base = Number(segments[1]!.slice(0, 20));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff; // inside a batch in the middle of the segment
    writeFileSync(second, bytes);
    const b = await Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' });
    const p = b.topic('t').partition(0);
    const before = await p.read(0, { maxRecords: 1000 });
    expect(before.length).toBeGreaterThan(base); // everything up to the damaged batch
    expect(before.map((r) => text(r.value))).toEqual(before.map((_, i) => `value-${i}`));
    const error = await expectError(() => p.read(before.length), 'STORAGE_CORRUPT', new RegExp(segments[1]!));
    expect([error.topic, error.partition, error.offset]).toEqual(['t', 0, before.length]);
    await b.close();
  });

  it('garbage after the last batch of a clean log is still a torn tail (cut, readable)', async () => {
    const dir = tempDir('tail-again');
    dirs.push(dir);
    const segments = await hundred(dir);
    appendFileSync(join(dir, 't-0', segments.at(-1)!), Buffer.alloc(20, 7));
    const b = await Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' });
    expect(b.topic('t').partition(0).logEndOffset).toBe(100);
    await b.close();
  });
});
