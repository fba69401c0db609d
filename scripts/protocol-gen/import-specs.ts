import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FieldSpec, type MessageSpec, type SpecSource, type StructSpec, type VersionRange, parseVersions } from './spec-types.js';

/**
 * The APIs kafkalite serves, by Kafka's message name (without Request/Response). Each is imported
 * with every version its spec lists.
 */
export const API_NAMES = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator',
  'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups',
  'SaslHandshake', 'ApiVersions', 'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId',
  'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit', 'DescribeConfigs',
  'AlterConfigs', 'SaslAuthenticate', 'CreatePartitions', 'DeleteGroups', 'IncrementalAlterConfigs',
] as const;

export const HEADER_NAMES = ['RequestHeader', 'ResponseHeader'] as const;

/** Kafka's spec files are JSON with // comments; strips those outside of strings. */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

type Json = Record<string, unknown>;

const versionsOf = (value: unknown, what: string): VersionRange | null => {
  if (typeof value !== 'string') throw new Error(`${what}: missing version string`);
  return parseVersions(value);
};

function importField(raw: Json, where: string): FieldSpec {
  const name = String(raw.name);
  const at = `${where}.${name}`;
  const tagged = raw.taggedVersions === undefined ? null : versionsOf(raw.taggedVersions, at);
  const versions = raw.versions === undefined ? tagged : versionsOf(raw.versions, at);
  if (!versions) throw new Error(`${at}: no versions`);
  const field: { -readonly [K in keyof FieldSpec]: FieldSpec[K] } = { name, type: String(raw.type), versions };
  if (raw.nullableVersions !== undefined) {
    const nullable = versionsOf(raw.nullableVersions, at);
    if (nullable) field.nullableVersions = nullable;
  }
  if (raw.tag !== undefined) {
    if (!tagged) throw new Error(`${at}: tag without taggedVersions`);
    field.tag = Number(raw.tag);
    field.taggedVersions = tagged;
  }
  if (raw.flexibleVersions !== undefined) field.flexibleVersions = versionsOf(raw.flexibleVersions, at);
  if (raw.default !== undefined) field.default = String(raw.default);
  if (raw.ignorable === true) field.ignorable = true;
  if (Array.isArray(raw.fields)) field.fields = (raw.fields as Json[]).map((f) => importField(f, at));
  return field;
}

/** Reads one spec file into the model. */
export function importSpec(path: string): MessageSpec {
  const raw = JSON.parse(stripJsonComments(readFileSync(path, 'utf8'))) as Json;
  const name = String(raw.name);
  const type = String(raw.type);
  if (type !== 'request' && type !== 'response' && type !== 'header') throw new Error(`${path}: unexpected type ${type}`);
  const validVersions = versionsOf(raw.validVersions, name);
  if (!validVersions) throw new Error(`${name}: no valid versions`);
  const spec: { -readonly [K in keyof MessageSpec]: MessageSpec[K] } = {
    name,
    type,
    validVersions,
    flexibleVersions: versionsOf(raw.flexibleVersions, name),
    fields: (raw.fields as Json[]).map((f) => importField(f, name)),
  };
  if (raw.apiKey !== undefined) spec.apiKey = Number(raw.apiKey);
  if (raw.latestVersionUnstable === true) spec.latestVersionUnstable = true;
  if (Array.isArray(raw.commonStructs)) {
    spec.commonStructs = (raw.commonStructs as Json[]).map((s): StructSpec => {
      const versions = versionsOf(s.versions, `${name}.${String(s.name)}`);
      if (!versions) throw new Error(`${name}.${String(s.name)}: no versions`);
      return { name: String(s.name), versions, fields: (s.fields as Json[]).map((f) => importField(f, `${name}.${String(s.name)}`)) };
    });
  }
  return spec;
}

/** Imports the headers and both sides of every API in {@link API_NAMES} from a spec directory. */
export function importSpecs(dir: string): MessageSpec[] {
  const names = [...HEADER_NAMES, ...API_NAMES.flatMap((api) => [`${api}Request`, `${api}Response`])];
  return names.map((n) => importSpec(join(dir, `${n}.json`)));
}

const range = (r: VersionRange | null): string => (r ? `[${r[0]}, ${r[1]}]` : 'null');

function renderField(f: FieldSpec, indent: string): string {
  const parts = [`name: ${JSON.stringify(f.name)}`, `type: ${JSON.stringify(f.type)}`, `versions: ${range(f.versions)}`];
  if (f.nullableVersions) parts.push(`nullableVersions: ${range(f.nullableVersions)}`);
  if (f.tag !== undefined) parts.push(`tag: ${f.tag}`, `taggedVersions: ${range(f.taggedVersions ?? null)}`);
  if (f.flexibleVersions !== undefined) parts.push(`flexibleVersions: ${range(f.flexibleVersions)}`);
  if (f.default !== undefined) parts.push(`default: ${JSON.stringify(f.default)}`);
  if (f.ignorable) parts.push('ignorable: true');
  if (!f.fields) return `${indent}{ ${parts.join(', ')} },`;
  return [
    `${indent}{ ${parts.join(', ')}, fields: [`,
    ...f.fields.map((c) => renderField(c, `${indent}  `)),
    `${indent}] },`,
  ].join('\n');
}

/** The model as a TypeScript module, deterministic for the same input. */
export function renderSpecModule(messages: readonly MessageSpec[], source: SpecSource): string {
  const out: string[] = [
    `// Generated by scripts/gen-protocol.ts --import from Apache Kafka's message specs — do not edit.`,
    `// Source: ${source.repository} ${source.ref} (commit ${source.commit}), ${source.path}.`,
    `// Apache Kafka is licensed under the Apache License 2.0 (see LICENSE and NOTICE beside this file);`,
    `// this is a derived form of its message specs: version strings parsed, documentation dropped.`,
    '',
    `import type { MessageSpec, SpecSource } from '../protocol-gen/spec-types.js';`,
    '',
    'export const source: SpecSource = {',
    `  repository: ${JSON.stringify(source.repository)},`,
    `  ref: ${JSON.stringify(source.ref)},`,
    `  commit: ${JSON.stringify(source.commit)},`,
    `  path: ${JSON.stringify(source.path)},`,
    '};',
    '',
    'export const messages: readonly MessageSpec[] = [',
  ];
  for (const m of messages) {
    const head = [`name: ${JSON.stringify(m.name)}`, `type: ${JSON.stringify(m.type)}`];
    if (m.apiKey !== undefined) head.push(`apiKey: ${m.apiKey}`);
    head.push(`validVersions: ${range(m.validVersions)}`, `flexibleVersions: ${range(m.flexibleVersions)}`);
    if (m.latestVersionUnstable) head.push('latestVersionUnstable: true');
    out.push(`  {`, `    ${head.join(', ')},`, '    fields: [');
    for (const f of m.fields) out.push(renderField(f, '      '));
    out.push('    ],');
    if (m.commonStructs) {
      out.push('    commonStructs: [');
      for (const s of m.commonStructs) {
        out.push(`      { name: ${JSON.stringify(s.name)}, versions: ${range(s.versions)}, fields: [`);
        for (const f of s.fields) out.push(renderField(f, '        '));
        out.push('      ] },');
      }
      out.push('    ],');
    }
    out.push('  },');
  }
  out.push('];', '');
  return out.join('\n');
}
