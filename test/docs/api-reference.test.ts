/**
 * docs/api.md is the public API reference of the package root `kafkalite`. This test keeps it
 * from going stale: every export of src/index.ts, every member of its exported interfaces and
 * classes, every option key (with its literal default) and every error code must be in the doc,
 * and every error code the doc names must exist. Names count where a reader looks them up: in a
 * heading or in `backticks` (fenced code blocks do not count). Each failure says what is missing
 * and where in docs/api.md it belongs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from 'kafkalite';
import { defaultConsumerOptions } from '../../src/client/consumer-options.js';
import { defaultProducerOptions } from '../../src/client/producer-options.js';

const DOC = 'docs/api.md';
const INDEX = 'src/index.ts';
const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

// ---------------------------------------------------------------------------------------------
// The doc: headings, inline code spans and their identifiers

interface Heading {
  level: number;
  text: string;
  /** 0-based line index. */
  line: number;
  tokens: Set<string>;
}

interface Section {
  heading: Heading;
  /** Line range [from, to). */
  from: number;
  to: number;
  tokens: Set<string>;
}

interface Doc {
  /** The doc's lines, with fenced code blocks blanked out. */
  lines: string[];
  headings: Heading[];
  /** Identifiers in headings and inline code spans, per line. */
  tokensByLine: Set<string>[];
  tokens: Set<string>;
}

const identifiers = (text: string): string[] => text.match(/[A-Za-z_$][\w$]*/g) ?? [];
const codeSpans = (line: string): string[] => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

function parseDoc(text: string): Doc {
  let fenced = false;
  const lines = text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
  const headings: Heading[] = [];
  const tokens = new Set<string>();
  const tokensByLine = lines.map((line, i) => {
    const found = new Set<string>();
    const h = /^(#{1,6})\s+(.*?)\s*$/.exec(line);
    if (h !== null) {
      const ids = identifiers(h[2]!);
      headings.push({ level: h[1]!.length, text: h[2]!, line: i, tokens: new Set(ids) });
      for (const id of ids) found.add(id);
    }
    for (const span of codeSpans(line)) for (const id of identifiers(span)) found.add(id);
    for (const id of found) tokens.add(id);
    return found;
  });
  return { lines, headings, tokensByLine, tokens };
}

/**
 * The section of `name`, subsections included: under the first heading that names only it (such
 * as "### `Partition`"), else under the first heading that names it among other words.
 */
function sectionNaming(doc: Doc, name: string): Section | undefined {
  const only = doc.headings.findIndex((h) => h.tokens.size === 1 && h.tokens.has(name));
  const index = only >= 0 ? only : doc.headings.findIndex((h) => h.tokens.has(name));
  if (index < 0) return undefined;
  const heading = doc.headings[index]!;
  const next = doc.headings.slice(index + 1).find((h) => h.level <= heading.level);
  const to = next?.line ?? doc.lines.length;
  const tokens = new Set<string>();
  for (let i = heading.line; i < to; i++) for (const t of doc.tokensByLine[i]!) tokens.add(t);
  return { heading, from: heading.line, to, tokens };
}

/** Table rows of a section whose first cell starts with `` `cell` ``, keyed by that cell. */
function tableRows(doc: Doc, section: Section): Map<string, string> {
  const rows = new Map<string, string>();
  for (let i = section.from; i < section.to; i++) {
    const m = /^\|\s*`([^`]+)`/.exec(doc.lines[i]!);
    if (m !== null && !rows.has(m[1]!)) rows.set(m[1]!, doc.lines[i]!);
  }
  return rows;
}

const headingRef = (section: Section): string => `"${'#'.repeat(section.heading.level)} ${section.heading.text}"`;

// ---------------------------------------------------------------------------------------------
// The code: src/index.ts's exports and the interfaces they name

interface Export {
  name: string;
  /** The module it comes from, e.g. src/client/consumer.ts. */
  module: string;
  typeOnly: boolean;
}

function parseIndexExports(source: string): { exports: Export[]; unread: string } {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const exports: Export[] = [];
  const pattern = /export\s+(type\s+)?\{([^}]*)\}\s*from\s*'([^']+)';?/g;
  for (const m of code.matchAll(pattern)) {
    const module = `src/${m[3]!.replace(/^\.\//, '').replace(/\.js$/, '.ts')}`;
    for (const raw of m[2]!.split(',')) {
      const item = raw.trim();
      if (item.length === 0) continue;
      const typeOnly = m[1] !== undefined || item.startsWith('type ');
      const name = item.replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      exports.push({ name, module, typeOnly });
    }
  }
  return { exports, unread: code.replace(pattern, '').trim() };
}

interface Member {
  name: string;
  /** The TSDoc comment before it, if any. */
  doc: string;
}

/**
 * The members of `export interface name { … }` in `source`: property and method names (before
 * `?:`, `:`, `(` or `<`) at the top level of the body, each with the doc comment before it.
 * Undefined when the module declares no such interface (a type alias, say).
 */
function interfaceMembers(source: string, name: string): Member[] | undefined {
  const start = new RegExp(`export interface ${name}\\b[^{]*\\{`).exec(source);
  if (start === null) return undefined;
  const members: Member[] = [];
  let depth = 0;
  let atMemberStart = true;
  let comment = '';
  for (let i = start.index + start[0].length; i < source.length; i++) {
    if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i) + 2;
      comment = source.slice(i, end);
      i = end - 1;
      continue;
    }
    if (source.startsWith('//', i)) {
      i = source.indexOf('\n', i);
      continue;
    }
    const ch = source[i]!;
    if ('{(['.includes(ch)) depth++;
    else if ('})]'.includes(ch)) {
      if (depth === 0) break; // the interface's closing brace
      depth--;
    } else if (ch === ';' && depth === 0) atMemberStart = true;
    else if (depth === 0 && atMemberStart && /[A-Za-z_$]/.test(ch)) {
      const m = /^(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*[:(<]/.exec(source.slice(i));
      if (m !== null) {
        members.push({ name: m[1]!, doc: comment });
        i += m[0].length - 2; // the `(` / `<` / `:` is looked at next
      }
      atMemberStart = false;
      comment = '';
    }
  }
  return members;
}

/** A `@default` that is a plain literal (a number, a quoted string, a boolean), as the doc writes it. */
function literalDefault(docComment: string): string | undefined {
  const m = /@default\s+(-?\d+(?:\.\d+)?|'[^']*'|true|false)(?![\w.])/.exec(docComment);
  return m?.[1];
}

function renderLiteral(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return `'${value}'`;
  return undefined; // undefined, functions, objects: described in words
}

const isClass = (v: unknown): v is abstract new (...args: never[]) => unknown =>
  typeof v === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(v));

/** Where in docs/api.md a name from a module belongs. */
const SECTION_OF_MODULE: [RegExp, string][] = [
  [/^src\/broker\//, '## Broker'],
  [/^src\/topic\/(topic|partition)\.ts$/, '## Topic and Partition'],
  [/^src\/client\/producer/, '## Producer'],
  [/^src\/client\/consumer/, '## Consumer'],
  [/^src\/group\//, '## ConsumerGroup'],
  [/^src\/storage\//, '## Storage'],
  [/^src\/clock\.ts$/, '## Clock'],
  [/^src\/logger\.ts$/, '## Logger'],
  [/^src\/errors\.ts$/, '## Errors'],
  [/^src\/(codec\/|topic\/partitioner\.ts$)/, '## Codec helpers'],
];

function whereToAdd(module: string | undefined): string {
  const section = SECTION_OF_MODULE.find(([re]) => module !== undefined && re.test(module))?.[1];
  return section !== undefined ? `under "${section}"` : 'in the section that uses it (or a new section)';
}

const doc = parseDoc(read(DOC));
const index = parseIndexExports(read(INDEX));
const moduleOf = new Map(index.exports.map((e) => [e.name, e.module]));
const sources = new Map<string, string>();
const sourceOf = (module: string): string => {
  if (!sources.has(module)) sources.set(module, read(module));
  return sources.get(module)!;
};
const runtimeNames = Object.keys(api).sort();
const typeExports = index.exports.filter((e) => e.typeOnly);
const errorCodes: readonly string[] = api.ErrorCodes;

/** Exported interfaces, with their members as declared in their modules. */
const interfaces = typeExports.flatMap((e) => {
  const members = interfaceMembers(sourceOf(e.module), e.name);
  return members === undefined ? [] : [{ ...e, members }];
});

const report = (problems: string[]): void => {
  expect(problems, `\n${DOC} is out of date:\n  - ${problems.join('\n  - ')}\n`).toEqual([]);
};

// ---------------------------------------------------------------------------------------------

describe('docs/api.md, the API reference', () => {
  it('can read every export statement of src/index.ts and every exported interface', () => {
    expect(index.unread, `${INDEX} has an export statement this test cannot parse; extend parseIndexExports`).toBe('');
    for (const name of runtimeNames) expect(moduleOf.has(name), `runtime export ${name} not found in ${INDEX}'s export lists`).toBe(true);
    for (const i of interfaces) expect(i.members.length, `no members parsed for interface ${i.name} in ${i.module}`).toBeGreaterThan(0);
    // The parser agrees with the runtime default objects.
    const members = (name: string): string[] => interfaces.find((i) => i.name === name)!.members.map((m) => m.name).sort();
    expect(members('ConsumerOptions')).toEqual(Object.keys(defaultConsumerOptions).sort());
    expect(members('ProducerOptions')).toEqual(Object.keys(defaultProducerOptions).sort());
  });

  it('names every runtime export of kafkalite', () => {
    const problems = runtimeNames
      .filter((name) => !doc.tokens.has(name))
      .map((name) => `runtime export \`${name}\` (from ${moduleOf.get(name)}) is not documented: add a heading or a \`${name}\` mention ${whereToAdd(moduleOf.get(name))}`);
    report(problems);
  });

  it('names every exported type of src/index.ts', () => {
    const problems = typeExports
      .filter((e) => !doc.tokens.has(e.name))
      .map((e) => `exported type \`${e.name}\` (from ${e.module}) is not documented: add a heading or a \`${e.name}\` mention ${whereToAdd(e.module)}`);
    report(problems);
  });

  it('gives every exported interface a heading and names each of its members there', () => {
    const problems: string[] = [];
    for (const i of interfaces) {
      const section = sectionNaming(doc, i.name);
      if (section === undefined) {
        problems.push(`interface \`${i.name}\` (${i.module}) has no heading: add one (e.g. "### \`${i.name}\`") ${whereToAdd(i.module)}, listing its members`);
        continue;
      }
      for (const m of i.members) {
        if (!section.tokens.has(m.name)) {
          problems.push(`member \`${m.name}\` of interface \`${i.name}\` (${i.module}) is not in section ${headingRef(section)} (line ${section.from + 1}): add it there in backticks`);
        }
      }
    }
    report(problems);
  });

  it('names every method and property of the exported classes in their sections', () => {
    const problems: string[] = [];
    for (const name of runtimeNames) {
      const value: unknown = (api as Record<string, unknown>)[name];
      if (!isClass(value)) continue;
      const section = sectionNaming(doc, name);
      if (section === undefined) {
        problems.push(`class \`${name}\` (${moduleOf.get(name)}) has no heading: add "### \`${name}\`" ${whereToAdd(moduleOf.get(name))}`);
        continue;
      }
      const statics = Object.getOwnPropertyNames(value).filter((n) => !['length', 'name', 'prototype'].includes(n));
      const own = Object.getOwnPropertyNames(value.prototype).filter((n) => n !== 'constructor');
      for (const member of [...statics, ...own]) {
        if (!section.tokens.has(member)) {
          problems.push(`\`${name}.${member}\` (${moduleOf.get(name)}) is not in section ${headingRef(section)} (line ${section.from + 1}): add it there in backticks`);
        }
      }
    }
    // Fields set in KafkaliteError's constructor.
    const error = new api.KafkaliteError('CLOSED', 'x', { topic: 't', partition: 0, offset: 0, cause: new Error('c'), retriable: true });
    const section = sectionNaming(doc, 'KafkaliteError');
    for (const field of Object.getOwnPropertyNames(error).filter((n) => n !== 'stack')) {
      if (section !== undefined && !section.tokens.has(field)) {
        problems.push(`field \`${field}\` of KafkaliteError (src/errors.ts) is not in section ${headingRef(section)}: add a row for it`);
      }
    }
    report(problems);
  });

  it('has a table row for every option key, with its literal default', () => {
    const problems: string[] = [];
    const optionTypes = interfaces.filter((i) => i.name.endsWith('Options') || i.name === 'TopicConfig');
    expect(optionTypes.map((i) => i.name)).toEqual(expect.arrayContaining(['BrokerOptions', 'ConsumerOptions', 'FileStorageOptions', 'ProducerOptions', 'TopicConfig']));
    const runtimeDefaults: Record<string, { where: string; values: Record<string, unknown> }> = {
      ConsumerOptions: { where: 'defaultConsumerOptions in src/client/consumer-options.ts', values: defaultConsumerOptions },
      ProducerOptions: { where: 'defaultProducerOptions in src/client/producer-options.ts', values: defaultProducerOptions },
    };
    for (const i of optionTypes) {
      const section = sectionNaming(doc, i.name);
      if (section === undefined) {
        problems.push(`options type \`${i.name}\` (${i.module}) has no heading: add "### \`${i.name}\`" with a table | Option | Type | Default | | ${whereToAdd(i.module)}`);
        continue;
      }
      const rows = tableRows(doc, section);
      const expected = new Map<string, { literal: string; from: string }[]>();
      for (const m of i.members) {
        const literal = literalDefault(m.doc);
        expected.set(m.name, literal === undefined ? [] : [{ literal, from: `@default in ${i.module}` }]);
      }
      const runtime = runtimeDefaults[i.name];
      if (runtime !== undefined) {
        for (const [key, value] of Object.entries(runtime.values)) {
          const literal = renderLiteral(value);
          const list = expected.get(key) ?? [];
          if (literal !== undefined) list.push({ literal, from: runtime.where });
          expected.set(key, list);
        }
      }
      for (const [key, defaults] of expected) {
        const row = rows.get(key);
        if (row === undefined) {
          problems.push(`option \`${key}\` of ${i.name} (${i.module}) has no row in the table of section ${headingRef(section)}: add "| \`${key}\` | type | default | what it does |"`);
          continue;
        }
        for (const { literal, from } of defaults) {
          if (!codeSpans(row).includes(literal)) {
            problems.push(`the row of option \`${key}\` in section ${headingRef(section)} does not show its default \`${literal}\` (${from}): put \`${literal}\` in its Default cell`);
          }
        }
      }
    }
    report(problems);
  });

  it('lists every error code in the Errors table, and only real codes', () => {
    const problems: string[] = [];
    const section = sectionNaming(doc, 'Errors');
    if (section === undefined) {
      report([`there is no "## Errors" section: add one with a table | Code | When | listing every code of ErrorCodes (src/errors.ts)`]);
      return;
    }
    const rows = [...tableRows(doc, section).keys()].filter((cell) => /^[A-Z][A-Z0-9_]*$/.test(cell));
    for (const code of errorCodes) {
      if (!rows.includes(code)) {
        problems.push(`error code \`${code}\` (ErrorCodes in src/errors.ts) has no row in the table of section ${headingRef(section)}: add "| \`${code}\` | when it happens |"`);
      }
    }
    for (const code of rows) {
      if (!errorCodes.includes(code)) {
        problems.push(`the Errors table of ${DOC} lists \`${code}\`, which is not in ErrorCodes (src/errors.ts): remove or rename its row`);
      }
    }
    report(problems);
  });

  it('names no error code that does not exist, anywhere', () => {
    const known = new Set([...errorCodes, ...runtimeNames]);
    const problems: string[] = [];
    doc.lines.forEach((line, i) => {
      for (const span of codeSpans(line)) {
        if (/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(span) && !known.has(span)) {
          problems.push(`${DOC} line ${i + 1} names \`${span}\`, which is neither in ErrorCodes (src/errors.ts) nor an export of kafkalite: fix or remove it`);
        }
      }
    });
    report(problems);
  });
});
