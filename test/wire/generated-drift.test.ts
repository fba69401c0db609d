import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MESSAGES_DIR, MODEL_FILE, writeGenerated } from '../../scripts/gen-protocol.js';
import { messages, source } from '../../scripts/kafka-protocol-spec/messages.js';
import { generateFiles } from '../../scripts/protocol-gen/generate.js';
import { importSpecs, renderSpecModule } from '../../scripts/protocol-gen/import-specs.js';
import { MAX_VERSION, type FieldSpec, type MessageSpec, type VersionRange } from '../../scripts/protocol-gen/spec-types.js';

/** A version range as Kafka's spec files write it: "none", "N", "N+", "N-M". */
const versions = (r: VersionRange | null): string => (r === null ? 'none' : r[1] === MAX_VERSION ? `${r[0]}+` : r[0] === r[1] ? `${r[0]}` : `${r[0]}-${r[1]}`);

function fieldJson(f: FieldSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: f.name, type: f.type, versions: versions(f.versions), about: 'a // inside a string' };
  if (f.nullableVersions) out.nullableVersions = versions(f.nullableVersions);
  if (f.tag !== undefined) out.tag = f.tag;
  if (f.taggedVersions) out.taggedVersions = versions(f.taggedVersions);
  if (f.flexibleVersions !== undefined) out.flexibleVersions = versions(f.flexibleVersions);
  if (f.default !== undefined) out.default = f.default;
  if (f.ignorable) out.ignorable = true;
  if (f.fields) out.fields = f.fields.map(fieldJson);
  return out;
}

function toSpecJson(m: MessageSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: m.name, type: m.type, validVersions: versions(m.validVersions), flexibleVersions: versions(m.flexibleVersions), fields: m.fields.map(fieldJson) };
  if (m.apiKey !== undefined) out.apiKey = m.apiKey;
  if (m.latestVersionUnstable) out.latestVersionUnstable = true;
  if (m.commonStructs) out.commonStructs = m.commonStructs.map((s) => ({ name: s.name, versions: versions(s.versions), fields: s.fields.map(fieldJson) }));
  return out;
}

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

  it('the spec importer reads Kafka-style JSON spec files (with // comments) back into exactly the committed model', () => {
    // The committed model written out in the spec files' own format; the real files are checked
    // with `npm run gen:protocol -- --check DIR` (they are not kept in this repository).
    const dir = mkdtempSync(join(tmpdir(), 'kafkalite-spec-'));
    try {
      for (const m of messages) writeFileSync(join(dir, `${m.name}.json`), `// Licensed to the Apache Software Foundation (ASF).\n// "quoted" in a comment\n${JSON.stringify(toSpecJson(m), null, 2)}\n`);
      const imported = importSpecs(dir);
      expect(imported).toEqual(messages);
      expect(renderSpecModule(imported, source) === readFileSync(MODEL_FILE, 'utf8'), 'the rendered model differs from the committed one').toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
