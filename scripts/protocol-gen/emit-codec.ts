import { type ResolvedField, type ResolvedMessage, type ResolvedStruct, resolveMessage } from './resolve.js';
import { type MessageSpec, type VersionRange, MAX_VERSION, formatVersions, intersect } from './spec-types.js';

/**
 * Emits the TypeScript codec of one API (its request and response specs) or of the two headers.
 *
 * The emitted code is straight-line: one decode and one encode function per struct, each field a
 * single read or write guarded by plain `version` comparisons, arrays of structs through one small
 * function per struct, no closures and no per-field objects. Absent fields decode to their spec
 * default; encoders write the spec default for a field left undefined.
 */

/** Modules the emitted code imports from, relative to src/wire/protocol/messages/. */
interface Imports {
  values: Map<string, Set<string>>;
  types: Map<string, Set<string>>;
}

const addImport = (imports: Imports, kind: 'values' | 'types', module: string, name: string): void => {
  let set = imports[kind].get(module);
  if (!set) imports[kind].set(module, (set = new Set()));
  set.add(name);
};

/** A choice between two alternatives on a version condition, rendered as ?: or if/else. */
type Choice = string | { cond: string; yes: Choice; no: Choice };

const renderExpr = (c: Choice): string =>
  typeof c === 'string' ? c : `(${c.cond} ? ${renderExpr(c.yes)} : ${renderExpr(c.no)})`;

const renderStmt = (c: Choice, indent: string): string[] => {
  if (typeof c === 'string') return [`${indent}${c};`];
  return [
    `${indent}if (${c.cond}) {`,
    ...renderStmt(c.yes, `${indent}  `),
    `${indent}} else {`,
    ...renderStmt(c.no, `${indent}  `),
    `${indent}}`,
  ];
};

/** The part of `within` outside of `range`, widened to a single range (a superset is still correct). */
function outside(range: VersionRange, within: VersionRange): VersionRange {
  if (range[0] > within[0] && range[1] >= within[1]) return [within[0], range[0] - 1];
  if (range[1] < within[1] && range[0] <= within[0]) return [range[1] + 1, within[1]];
  return within;
}

class StructEmitter {
  readonly out: string[] = [];
  usesFlexible = false;

  constructor(
    readonly msg: ResolvedMessage,
    readonly struct: ResolvedStruct,
    readonly imports: Imports,
    readonly needs: { arrays: Set<ResolvedStruct>; defaults: Set<ResolvedStruct>; isDefault: Set<ResolvedStruct> },
  ) {}

  get possible(): VersionRange {
    return this.struct.possible!;
  }

  get flexibleVersions(): VersionRange | null {
    return this.msg.spec.flexibleVersions;
  }

  path(f: ResolvedField): string {
    return `${this.struct.tsName}.${f.name}`;
  }

  /** A version condition within `within`: true, false, or a JS expression. */
  cond(range: VersionRange | null | undefined, within: VersionRange): true | false | string {
    const r = intersect(range, within);
    if (!r) return false;
    const lo = r[0] > within[0] ? `version >= ${r[0]}` : null;
    const hi = r[1] < within[1] ? `version <= ${r[1]}` : null;
    if (lo && hi) return r[0] === r[1] ? `version === ${r[0]}` : `${lo} && ${hi}`;
    return lo ?? hi ?? true;
  }

  /** The flexible versions of a field: its override, or the message's. */
  fieldFlexible(f: ResolvedField): VersionRange | null {
    return f.spec.flexibleVersions !== undefined ? f.spec.flexibleVersions : this.flexibleVersions;
  }

  /** Condition for "this field is in a flexible version", preferring the shared `flexible` local. */
  flexCond(f: ResolvedField, within: VersionRange): true | false | string {
    const flex = this.fieldFlexible(f);
    const c = this.cond(flex, within);
    if (typeof c === 'string' && flex === this.flexibleVersions && flex && flex[1] === MAX_VERSION) {
      this.usesFlexible = true;
      return 'flexible';
    }
    return c;
  }

  choose(
    c: true | false | string,
    range: VersionRange | null,
    within: VersionRange,
    gen: (yes: boolean, sub: VersionRange) => Choice,
  ): Choice {
    if (c === true) return gen(true, within);
    if (c === false) return gen(false, within);
    const yesRange = intersect(range, within) ?? within;
    return { cond: c, yes: gen(true, yesRange), no: gen(false, range ? outside(range, within) : within) };
  }

  /** Chooses on flexibility (compact encodings) and then on nullability. */
  chooseFlexNull(
    f: ResolvedField,
    within: VersionRange,
    forceFlexible: boolean,
    gen: (flexible: boolean, nullable: boolean) => string,
  ): Choice {
    const flexRange = this.fieldFlexible(f);
    const fc = forceFlexible ? true : this.flexCond(f, within);
    return this.choose(fc, flexRange, within, (flexible, sub) =>
      this.choose(this.cond(f.spec.nullableVersions, sub), f.spec.nullableVersions ?? null, sub, (nullable) =>
        gen(flexible, nullable),
      ),
    );
  }

  isNullable(f: ResolvedField): boolean {
    return !!intersect(f.spec.nullableVersions, f.spec.versions);
  }

  tsType(f: ResolvedField): string {
    let base: string;
    if (f.kind === 'struct') base = f.struct!.tsName;
    else if (f.kind === 'array') base = `${f.struct ? f.struct.tsName : primitiveTs(f.primitive!)}[]`;
    else base = primitiveTs(f.primitive!);
    return this.isNullable(f) ? `${base} | null` : base;
  }

  /** The spec default as a decoded value. */
  defaultExpr(f: ResolvedField): string {
    const d = f.spec.default;
    if (d === 'null') return 'null';
    if (f.kind === 'array') return '[]';
    if (f.kind === 'struct') {
      this.needs.defaults.add(f.struct!);
      return `default${f.struct!.tsName}()`;
    }
    return primitiveDefault(f, this.imports);
  }

  /** The expression an encoder writes for field `f` of input `v`: the value, or its default. */
  inputExpr(f: ResolvedField, v: string): string {
    const d = f.spec.default;
    if (d === 'null') return `${v}.${f.name} ?? null`;
    let fallback: string;
    if (f.kind === 'array') fallback = '[]';
    else if (f.kind === 'struct') fallback = '{}';
    else fallback = primitiveDefault(f, this.imports);
    if (this.isNullable(f)) return `${v}.${f.name} === undefined ? ${fallback} : ${v}.${f.name}`;
    return `${v}.${f.name} ?? ${fallback}`;
  }

  // ---------------------------------------------------------------- decode

  readExpr(f: ResolvedField, within: VersionRange, tagged: boolean): string {
    if (f.kind === 'primitive') return renderExpr(this.readPrimitive(f, within, tagged));
    if (f.kind === 'array') {
      const fc = tagged ? true : this.flexCond(f, within);
      const compact = fc === true ? 'true' : fc === false ? 'false' : fc;
      let read: string;
      if (f.struct) {
        this.needs.arrays.add(f.struct);
        read = `decode${f.struct.tsName}Array(r, version, ${compact})`;
      } else {
        const method = ({ int32: 'readInt32Array', int64: 'readInt64Array', string: 'readStringArray' } as Record<string, string>)[
          f.primitive!
        ];
        if (!method) throw new Error(`${this.path(f)}: arrays of ${f.primitive} are not supported`);
        read = `r.${method}(${compact})`;
      }
      return renderExpr(
        this.choose(this.cond(f.spec.nullableVersions, within), f.spec.nullableVersions ?? null, within, (nullable) =>
          nullable ? read : this.notNull(read, f),
        ),
      );
    }
    const decode = `decode${f.struct!.tsName}(r, version)`;
    return renderExpr(
      this.choose(this.cond(f.spec.nullableVersions, within), f.spec.nullableVersions ?? null, within, (nullable) =>
        !nullable ? decode : tagged ? `(r.readUnsignedVarint() === 0 ? null : ${decode})` : `(r.readInt8() < 0 ? null : ${decode})`,
      ),
    );
  }

  notNull(expr: string, f: ResolvedField): string {
    addImport(this.imports, 'values', '../codec-support.js', 'notNull');
    return `notNull(${expr}, '${this.path(f)}', version)`;
  }

  readPrimitive(f: ResolvedField, within: VersionRange, tagged: boolean): Choice {
    const p = f.primitive!;
    const fixed: Record<string, string> = {
      bool: 'r.readBool()',
      int8: 'r.readInt8()',
      int16: 'r.readInt16()',
      uint16: 'r.readUint16()',
      int32: 'r.readInt32()',
      uint32: 'r.readUint32()',
      int64: 'r.readInt64()',
      float64: 'r.readFloat64()',
      uuid: 'r.readUuid()',
    };
    if (fixed[p]) return fixed[p];
    const kind = p === 'string' ? 'String' : 'Bytes';
    return this.chooseFlexNull(f, within, tagged, (flexible, nullable) =>
      `r.read${flexible ? 'Compact' : ''}${nullable ? 'Nullable' : ''}${kind}()`,
    );
  }

  emitDecode(): void {
    const s = this.struct;
    const within = this.possible;
    const name = s.tsName;
    const body: string[] = [];
    const fieldsOut: string[] = [];
    const tagged: ResolvedField[] = [];
    for (const f of s.fields) {
      const local = `$${f.name}`;
      fieldsOut.push(`${f.name}: ${local}`);
      const present = intersect(f.spec.versions, within);
      const taggedRange = intersect(f.spec.taggedVersions, present);
      const mandatory = present && taggedRange ? (taggedRange[0] > present[0] ? ([present[0], taggedRange[0] - 1] as const) : null) : present;
      const decl = taggedRange ? 'let' : 'const';
      const type = taggedRange ? `: ${this.tsType(f)}` : '';
      if (taggedRange) tagged.push(f);
      if (!mandatory) {
        body.push(`  ${decl} ${local}${type} = ${this.defaultExpr(f)};`);
        continue;
      }
      const c = this.cond(mandatory, within);
      const read = this.readExpr(f, mandatory, false);
      if (c === true) body.push(`  ${decl} ${local}${type} = ${read};`);
      else body.push(`  ${decl} ${local}${type} = ${c} ? ${read} : ${this.defaultExpr(f)};`);
    }
    const flexible = this.cond(this.flexibleVersions, within);
    if (this.flexibleVersions) {
      fieldsOut.push('unknownTaggedFields: $unknownTaggedFields');
      if (flexible === false) {
        body.push('  const $unknownTaggedFields = undefined;');
      } else if (tagged.length === 0) {
        const read = 'r.readUnknownTaggedFields()';
        if (flexible === true) body.push(`  const $unknownTaggedFields = ${read};`);
        else {
          this.usesFlexible = true;
          body.push(`  const $unknownTaggedFields = flexible ? ${read} : undefined;`);
        }
      } else {
        addImport(this.imports, 'types', '../tagged-fields.js', 'RawTaggedField');
        body.push('  let $unknownTaggedFields: RawTaggedField[] | undefined;');
        const indent = flexible === true ? '  ' : '    ';
        if (flexible !== true) {
          this.usesFlexible = true;
          body.push('  if (flexible) {');
        }
        body.push(
          `${indent}for (let n = r.readUnsignedVarint(); n > 0; n--) {`,
          `${indent}  const tag = r.readUnsignedVarint();`,
          `${indent}  const size = r.readUnsignedVarint();`,
        );
        let first = true;
        for (const f of [...tagged].sort((a, b) => a.spec.tag! - b.spec.tag!)) {
          const range = intersect(intersect(f.spec.taggedVersions, f.spec.versions), within)!;
          const c = this.cond(range, within);
          const test = c === true ? `tag === ${f.spec.tag}` : `tag === ${f.spec.tag} && ${c}`;
          body.push(
            `${indent}  ${first ? 'if' : '} else if'} (${test}) {`,
            `${indent}    const end = r.pushLimit(size);`,
            `${indent}    $${f.name} = ${this.readExpr(f, range, true)};`,
            `${indent}    r.popLimit(end, tag);`,
          );
          first = false;
        }
        body.push(
          `${indent}  } else {`,
          `${indent}    $unknownTaggedFields = r.readUnknownTaggedField($unknownTaggedFields, tag, size);`,
          `${indent}  }`,
          `${indent}}`,
        );
        if (flexible !== true) body.push('  }');
      }
    }
    addImport(this.imports, 'types', '../reader.js', 'Reader');
    const head: string[] = [];
    const usesVersion = s.isTopLevel || this.usesFlexible || body.some((l) => /\bversion\b/.test(l));
    if (s.isTopLevel) {
      const [lo, hi] = this.msg.spec.validVersions;
      head.push(`/** Decodes a ${name} body (the bytes after the header) of version ${lo}-${hi}. */`);
      head.push(`export function decode${name}(r: Reader, version: number): ${name} {`);
      head.push(...this.versionCheck());
    } else {
      head.push(`function decode${name}(r: Reader, ${usesVersion ? 'version' : '_version'}: number): ${name} {`);
    }
    if (this.usesFlexible) head.push(`  const flexible = version >= ${this.flexibleVersions![0]};`);
    this.out.push(...head, ...body, `  return { ${fieldsOut.join(', ')} };`, '}', '');
  }

  versionCheck(): string[] {
    addImport(this.imports, 'values', '../codec-support.js', 'unsupportedVersion');
    const [lo, hi] = this.msg.spec.validVersions;
    return [
      `  if (!(version >= ${lo} && version <= ${hi})) throw unsupportedVersion('${this.struct.tsName}', version, ${lo}, ${hi});`,
    ];
  }

  // ---------------------------------------------------------------- encode

  /** Statements writing value expression `x` of field `f` with writer `w`. */
  writeStmts(f: ResolvedField, x: string, within: VersionRange, tagged: boolean, w: string, indent: string): string[] {
    if (f.kind === 'primitive') {
      const p = f.primitive!;
      const fixed: Record<string, string> = {
        bool: 'writeBool',
        int8: 'writeInt8',
        int16: 'writeInt16',
        uint16: 'writeUint16',
        int32: 'writeInt32',
        uint32: 'writeUint32',
        int64: 'writeInt64',
        float64: 'writeFloat64',
        uuid: 'writeUuid',
      };
      if (fixed[p]) return [`${indent}${w}.${fixed[p]}(${x});`];
      const kind = p === 'string' ? 'String' : 'Bytes';
      const typedNullable = this.isNullable(f);
      return renderStmt(
        this.chooseFlexNull(f, within, tagged, (flexible, nullable) =>
          `${w}.write${flexible ? 'Compact' : ''}${nullable ? 'Nullable' : ''}${kind}(${
            nullable || !typedNullable ? x : this.notNull(x, f)
          })`,
        ),
        indent,
      );
    }
    if (f.kind === 'array') {
      const fc = tagged ? true : this.flexCond(f, within);
      const compact = fc === true ? 'true' : fc === false ? 'false' : fc;
      const typedNullable = this.isNullable(f);
      return renderStmt(
        this.choose(this.cond(f.spec.nullableVersions, within), f.spec.nullableVersions ?? null, within, (nullable) => {
          const value = nullable || !typedNullable ? x : this.notNull(x, f);
          if (f.struct) {
            this.needs.arrays.add(f.struct);
            return `encode${f.struct.tsName}Array(${w}, version, ${compact}, ${value})`;
          }
          const method = ({ int32: 'writeInt32Array', int64: 'writeInt64Array', string: 'writeStringArray' } as Record<string, string>)[
            f.primitive!
          ];
          if (!method) throw new Error(`${this.path(f)}: arrays of ${f.primitive} are not supported`);
          return `${w}.${method}(${compact}, ${value})`;
        }),
        indent,
      );
    }
    const encode = (value: string): string => `encode${f.struct!.tsName}(${w}, version, ${value})`;
    const c = this.cond(f.spec.nullableVersions, within);
    const marker = (n: number): string => (tagged ? `${w}.writeUnsignedVarint(${n < 0 ? 0 : 1})` : `${w}.writeInt8(${n})`);
    const nullableStmts = (): string[] => [
      `${indent}if (${x} === null) {`,
      `${indent}  ${marker(-1)};`,
      `${indent}} else {`,
      `${indent}  ${marker(1)};`,
      `${indent}  ${encode(x)};`,
      `${indent}}`,
    ];
    if (c === true) return nullableStmts();
    const strict = `${indent}${encode(this.isNullable(f) ? this.notNull(x, f) : x)};`;
    if (c === false) return [strict];
    return [`${indent}if (${c}) {`, ...nullableStmts().map((l) => `  ${l}`), `${indent}} else {`, `  ${strict}`, `${indent}}`];
  }

  /** Condition under which a tagged field differs from its default and so is written. */
  nonDefault(f: ResolvedField, x: string): string {
    const d = f.spec.default;
    if (d === 'null') return `${x} !== null`;
    const nullable = this.isNullable(f);
    const orNull = (cond: string): string => (nullable ? `(${x} === null || ${cond})` : cond);
    if (f.kind === 'array') return orNull(`${x}.length !== 0`);
    if (f.kind === 'struct') {
      this.needs.isDefault.add(f.struct!);
      return orNull(`!isDefault${f.struct!.tsName}(${x})`);
    }
    if (f.primitive === 'bytes') {
      addImport(this.imports, 'values', '../writer.js', 'byteLength');
      return orNull(`byteLength(${x}) !== 0`);
    }
    return `${x} !== ${primitiveDefault(f, this.imports)}`;
  }

  emitEncode(): void {
    const s = this.struct;
    const within = this.possible;
    const name = s.tsName;
    const body: string[] = [];
    const tagged: { f: ResolvedField; range: VersionRange }[] = [];
    for (const f of s.fields) {
      const present = intersect(f.spec.versions, within);
      if (!present) continue;
      const taggedRange = intersect(f.spec.taggedVersions, present);
      if (taggedRange) tagged.push({ f, range: taggedRange });
      const mandatory = taggedRange ? (taggedRange[0] > present[0] ? ([present[0], taggedRange[0] - 1] as const) : null) : present;
      if (!mandatory) continue;
      const c = this.cond(mandatory, within);
      const needsLocal = f.kind === 'struct' && this.cond(f.spec.nullableVersions, mandatory) !== false;
      const value = this.inputExpr(f, 'v');
      if (c === true) {
        if (needsLocal) body.push(`  const $${f.name} = ${value};`);
        body.push(...this.writeStmts(f, needsLocal ? `$${f.name}` : value, mandatory, false, 'w', '  '));
      } else {
        body.push(`  if (${c}) {`);
        if (needsLocal) body.push(`    const $${f.name} = ${value};`);
        body.push(...this.writeStmts(f, needsLocal ? `$${f.name}` : value, mandatory, false, 'w', '    '), '  }');
      }
    }
    const flexible = this.cond(this.flexibleVersions, within);
    if (this.flexibleVersions && flexible !== false) {
      const indent = flexible === true ? '  ' : '    ';
      if (flexible !== true) {
        this.usesFlexible = true;
        body.push('  if (flexible) {');
      }
      if (tagged.length === 0) {
        body.push(`${indent}w.writeUnknownTaggedFields(v.unknownTaggedFields);`);
      } else {
        tagged.sort((a, b) => a.f.spec.tag! - b.f.spec.tag!);
        body.push(`${indent}const unknown = v.unknownTaggedFields;`);
        const counts: string[] = [];
        for (const { f, range } of tagged) {
          const c = this.cond(range, within);
          body.push(`${indent}const $${f.name} = ${this.inputExpr(f, 'v')};`);
          const nd = this.nonDefault(f, `$${f.name}`);
          body.push(`${indent}const has${f.spec.tag} = ${c === true ? nd : `${c} && ${nd}`};`);
          counts.push(`(has${f.spec.tag} ? 1 : 0)`);
        }
        body.push(
          `${indent}w.writeUnsignedVarint(${counts.join(' + ')} + (unknown === undefined ? 0 : unknown.length));`,
          `${indent}let u = 0;`,
        );
        for (const { f, range } of tagged) {
          const tag = f.spec.tag!;
          const x = `$${f.name}`;
          body.push(`${indent}if (has${tag}) {`, `${indent}  if (unknown !== undefined) u = w.writeRawTaggedFields(unknown, u, ${tag});`);
          const valueStmts = (inner: string): string[] => {
            const fixedSize = FIXED_SIZE[f.primitive ?? ''];
            if (f.kind === 'primitive' && fixedSize !== undefined) {
              return [
                `${inner}w.writeUnsignedVarint(${tag});`,
                `${inner}w.writeUnsignedVarint(${fixedSize});`,
                ...this.writeStmts(f, x, range, true, 'w', inner),
              ];
            }
            addImport(this.imports, 'values', '../writer.js', 'Writer');
            return [
              `${inner}const s = new Writer(64);`,
              ...this.writeStmts(f, x, range, true, 's', inner),
              `${inner}w.writeTaggedField(${tag}, s);`,
            ];
          };
          if (f.spec.default !== 'null' && this.isNullable(f)) {
            // A null that is not the default still has to be sent: tag, size 1, compact null.
            body.push(
              `${indent}  if (${x} === null) {`,
              `${indent}    w.writeUnsignedVarint(${tag});`,
              `${indent}    w.writeUnsignedVarint(1);`,
              `${indent}    w.writeUnsignedVarint(0);`,
              `${indent}  } else {`,
              ...valueStmts(`${indent}    `),
              `${indent}  }`,
            );
          } else {
            body.push(...valueStmts(`${indent}  `));
          }
          body.push(`${indent}}`);
        }
        body.push(`${indent}if (unknown !== undefined) w.writeRawTaggedFields(unknown, u, Infinity);`);
      }
      if (flexible !== true) body.push('  }');
    }
    addImport(this.imports, 'types', '../writer.js', 'Writer');
    addImport(this.imports, 'types', '../encode-input.js', 'EncodeInput');
    const head: string[] = [];
    const params = `w: Writer, version: number, ${body.some((l) => /\bv\./.test(l)) ? 'v' : '_v'}: EncodeInput<${name}>`;
    if (s.isTopLevel) {
      const [lo, hi] = this.msg.spec.validVersions;
      head.push(`/** Encodes a ${name} body of version ${lo}-${hi}; fields left undefined are written as their defaults. */`);
      head.push(`export function encode${name}(${params}): void {`);
      head.push(...this.versionCheck());
    } else {
      head.push(`function encode${name}(${params}): void {`);
    }
    if (this.usesFlexible) head.push(`  const flexible = version >= ${this.flexibleVersions![0]};`);
    this.out.push(...head, ...body, '}', '');
  }
}

const FIXED_SIZE: Record<string, number> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

function primitiveTs(p: string): string {
  switch (p) {
    case 'bool':
      return 'boolean';
    case 'string':
    case 'uuid':
      return 'string';
    case 'bytes':
    case 'records':
      return 'Uint8Array';
    default:
      return 'number';
  }
}

/** A primitive field's non-null default as a TS expression. */
function primitiveDefault(f: ResolvedField, imports: Imports): string {
  const d = f.spec.default ?? '';
  switch (f.primitive) {
    case 'bool':
      if (d === '' || d.toLowerCase() === 'false') return 'false';
      if (d.toLowerCase() === 'true') return 'true';
      throw new Error(`invalid bool default ${d}`);
    case 'string':
      return JSON.stringify(d);
    case 'uuid':
      if (d === '') {
        addImport(imports, 'values', '../uuid.js', 'ZERO_UUID');
        return 'ZERO_UUID';
      }
      return JSON.stringify(d);
    case 'records':
      // Kafka's generator gives records fields a null default whatever the spec says.
      return 'null';
    case 'bytes':
      if (d !== '') throw new Error(`invalid bytes default ${d}`);
      addImport(imports, 'values', '../codec-support.js', 'EMPTY_BYTES');
      return 'EMPTY_BYTES';
    case 'float64':
      return d === '' ? '0' : String(Number(d));
    default: {
      if (d === '') return '0';
      const n = d.startsWith('0x') ? Number.parseInt(d.slice(2), 16) : Number.parseInt(d, 10);
      if (!Number.isSafeInteger(n)) throw new Error(`invalid integer default ${d}`);
      return String(n);
    }
  }
}

function fieldDoc(emitter: StructEmitter, f: ResolvedField): string {
  const parts = [`${f.spec.type}, versions ${formatVersions(f.spec.versions)}`];
  if (f.spec.nullableVersions) parts.push(`nullable ${formatVersions(f.spec.nullableVersions)}`);
  if (f.spec.tag !== undefined) parts.push(`tag ${f.spec.tag} in ${formatVersions(f.spec.taggedVersions)}`);
  if (f.spec.default !== undefined) parts.push(`default ${f.spec.default}`);
  if (f.spec.ignorable) parts.push('ignorable');
  void emitter;
  return `  /** ${parts.join('; ')} */`;
}

function emitInterface(emitter: StructEmitter, hasFlexible: boolean): string[] {
  const s = emitter.struct;
  const lines = [`export interface ${s.tsName} {`];
  for (const f of s.fields) lines.push(fieldDoc(emitter, f), `  ${f.name}: ${emitter.tsType(f)};`);
  if (hasFlexible) {
    addImport(emitter.imports, 'types', '../tagged-fields.js', 'RawTaggedField');
    lines.push('  /** Tagged fields this version does not know, kept to be written back. */');
    lines.push('  unknownTaggedFields?: RawTaggedField[];');
  }
  lines.push('}', '');
  return lines;
}

type Needs = { arrays: Set<ResolvedStruct>; defaults: Set<ResolvedStruct>; isDefault: Set<ResolvedStruct> };

/** One helper function of a struct: its array codec, its default factory or its isDefault test. */
function emitHelper(msg: ResolvedMessage, struct: ResolvedStruct, kind: keyof Needs, imports: Imports, needs: Needs): string[] {
  const e = new StructEmitter(msg, struct, imports, needs);
  const n = struct.tsName;
  if (kind === 'arrays') {
    addImport(imports, 'types', '../reader.js', 'Reader');
    addImport(imports, 'types', '../writer.js', 'Writer');
    addImport(imports, 'types', '../encode-input.js', 'EncodeInput');
    return [
      `function decode${n}Array(r: Reader, version: number, compact: boolean): ${n}[] | null {`,
      '  const n = r.readStructArrayLength(compact);',
      '  if (n < 0) return null;',
      `  const out: ${n}[] = [];`,
      `  for (let i = 0; i < n; i++) out.push(decode${n}(r, version));`,
      '  return out;',
      '}',
      '',
      `function encode${n}Array(w: Writer, version: number, compact: boolean, values: readonly EncodeInput<${n}>[] | null): void {`,
      '  if (values === null) {',
      '    w.writeStructArrayLength(compact, -1);',
      '    return;',
      '  }',
      '  w.writeStructArrayLength(compact, values.length);',
      `  for (const value of values) encode${n}(w, version, value);`,
      '}',
      '',
    ];
  }
  if (kind === 'defaults') {
    const fields = struct.fields.map((f) => `${f.name}: ${e.defaultExpr(f)}`);
    if (msg.spec.flexibleVersions) fields.push('unknownTaggedFields: undefined');
    return [`function default${n}(): ${n} {`, `  return { ${fields.join(', ')} };`, '}', ''];
  }
  addImport(imports, 'types', '../encode-input.js', 'EncodeInput');
  const conds = struct.fields.map((f) => {
    const x = `v.${f.name}`;
    if (f.spec.default === 'null') return `(${x} ?? null) === null`;
    const nullable = e.isNullable(f);
    const notNullAnd = (c: string): string => (nullable ? `(${x} !== null && ${c})` : c);
    if (f.kind === 'array') return `(${x} === undefined || ${notNullAnd(`${x}.length === 0`)})`;
    if (f.kind === 'struct') {
      needs.isDefault.add(f.struct!);
      return `(${x} === undefined || ${notNullAnd(`isDefault${f.struct!.tsName}(${x})`)})`;
    }
    if (f.primitive === 'bytes' || f.primitive === 'records') {
      addImport(imports, 'values', '../writer.js', 'byteLength');
      return `(${x} === undefined || ${notNullAnd(`byteLength(${x}) === 0`)})`;
    }
    return `(${x} === undefined || ${x} === ${primitiveDefault(f, imports)})`;
  });
  if (msg.spec.flexibleVersions) conds.push('(v.unknownTaggedFields === undefined || v.unknownTaggedFields.length === 0)');
  return [`function isDefault${n}(v: EncodeInput<${n}>): boolean {`, `  return (\n    ${conds.join(' &&\n    ')}\n  );`, '}', ''];
}

export interface EmittedMessage {
  readonly spec: MessageSpec;
  readonly resolved: ResolvedMessage;
  readonly interfaces: string[];
  readonly functions: string[];
}

function emitMessage(spec: MessageSpec, imports: Imports): EmittedMessage {
  const resolved = resolveMessage(spec);
  const needs: Needs = { arrays: new Set(), defaults: new Set(), isDefault: new Set() };
  const all = [resolved.top, ...resolved.structs.filter((s) => s.possible)];
  for (const s of resolved.structs) {
    if (s.fields.some((f) => f.name === 'tag') && s.fields.some((f) => f.name === 'data')) {
      throw new Error(`${s.tsName} looks like a RawTaggedField, which EncodeInput passes through unchanged`);
    }
  }
  const interfaces: string[] = [];
  const functions: string[] = [];
  for (const s of [resolved.top, ...resolved.structs]) {
    interfaces.push(...emitInterface(new StructEmitter(resolved, s, imports, needs), !!spec.flexibleVersions));
  }
  for (const s of all) {
    const d = new StructEmitter(resolved, s, imports, needs);
    d.emitDecode();
    const en = new StructEmitter(resolved, s, imports, needs);
    en.emitEncode();
    functions.push(...d.out, ...en.out);
  }
  // Helpers may ask for more helpers (isDefault of a nested struct): work until none is new.
  const done = new Set<string>();
  for (let progress = true; progress; ) {
    progress = false;
    for (const kind of ['arrays', 'defaults', 'isDefault'] as const) {
      for (const s of [...needs[kind]]) {
        const key = `${kind}:${s.tsName}`;
        if (done.has(key)) continue;
        done.add(key);
        progress = true;
        functions.push(...emitHelper(resolved, s, kind, imports, needs));
      }
    }
  }
  return { spec, resolved, interfaces, functions };
}

function renderImports(imports: Imports): string[] {
  const modules = [...new Set([...imports.values.keys(), ...imports.types.keys()])].sort();
  const lines: string[] = [];
  for (const m of modules) {
    const values = [...(imports.values.get(m) ?? [])].sort();
    const types = [...(imports.types.get(m) ?? [])].filter((t) => !values.includes(t)).sort();
    if (values.length === 0) lines.push(`import type { ${types.join(', ')} } from '${m}';`);
    else lines.push(`import { ${[...types.map((t) => `type ${t}`), ...values].join(', ')} } from '${m}';`);
  }
  return lines;
}

export const FILE_HEADER = [
  "// Generated by scripts/gen-protocol.ts from Apache Kafka's message specs (Apache-2.0) — do not edit.",
  '//',
  '// Types: int8/int16/int32/uint16/uint32/float64 and int64 → number (int64 exact within ±2^53, larger',
  '// values rounded, Long.MIN/MAX sentinels kept; the encoder refuses non-integers); uuid → Kafka\'s',
  '// 22-character base64url string; bytes and records → on decode a Uint8Array view into the frame (or',
  '// null), on encode a Uint8Array or a list of chunks written back to back. Fields absent from a',
  '// version decode to their spec default; fields left undefined encode as their spec default.',
];

/** The source of one messages/*.ts file: the given specs (request + response, or the headers). */
export function emitCodecFile(specs: readonly MessageSpec[], title: string): string {
  const imports: Imports = { values: new Map(), types: new Map() };
  const emitted = specs.map((s) => emitMessage(s, imports));
  const lines = [...FILE_HEADER, `// ${title}`, '', ...renderImports(imports), ''];
  for (const m of emitted) lines.push(...m.interfaces);
  for (const m of emitted) lines.push(...m.functions);
  while (lines[lines.length - 1] === '') lines.pop();
  return `${lines.join('\n')}\n`;
}
