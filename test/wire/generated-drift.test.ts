import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESSAGES_DIR, MODEL_FILE, writeGenerated } from '../../scripts/gen-protocol.js';
import { messages, source } from '../../scripts/kafka-protocol-spec/messages.js';
import { generateFiles } from '../../scripts/protocol-gen/generate.js';
import { importSpecs, renderSpecModule } from '../../scripts/protocol-gen/import-specs.js';

/**
 * The committed codecs are exactly what the generator makes of the committed spec model, so that
 * nobody edits generated code by hand and the generator cannot silently drift from it.
 */
describe('generated protocol code', () => {
  it('matches a fresh run of scripts/gen-protocol.ts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-gen-'));
    try {
      writeGenerated(dir, generateFiles(messages));
      const fresh = readdirSync(dir).sort();
      const committed = readdirSync(MESSAGES_DIR).filter((n) => n.endsWith('.ts')).sort();
      expect(committed).toEqual(fresh);
      for (const name of fresh) {
        const want = readFileSync(join(dir, name), 'utf8');
        const have = readFileSync(join(MESSAGES_DIR, name), 'utf8');
        expect(have === want, `${name} differs from the generator's output: run npm run gen:protocol`).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic', () => {
    const a = generateFiles(messages);
    const b = generateFiles(messages);
    expect([...a.entries()]).toEqual([...b.entries()]);
  });

  // Only where a copy of Kafka's spec JSON files is at hand (they are not kept in this repository).
  const specDir = process.env.KAFKA_PROTOCOL_SPEC_DIR;
  it.skipIf(!specDir)('model matches the spec JSON files in KAFKA_PROTOCOL_SPEC_DIR', () => {
    const model = renderSpecModule(importSpecs(specDir!), source);
    expect(model === readFileSync(MODEL_FILE, 'utf8'), 'run gen-protocol.ts --import').toBe(true);
  });
});
