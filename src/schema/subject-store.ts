/**
 * The registry's state: subjects and their versions, schemas by global id, and compatibility
 * levels. It is a fold of the `_schemas` topic (see schemas-topic.ts): every change is first
 * appended there, then applied here, and opening a registry replays the topic into a new store.
 *
 * Concurrency: plain synchronous data; the registry serialises the changes it makes.
 */
import type { CompatibilityLevel } from './compatibility.js';
import type { SchemaType } from './parsed-schema.js';

/** One version of one subject, as `_schemas` records it. */
export interface SchemaVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly type: SchemaType;
  /** The schema's canonical text (see ParsedSchema.text). */
  readonly schema: string;
  /** Soft-deleted by `deleteSubject`: no longer listed, but its id still resolves. */
  readonly deleted: boolean;
}

const identity = (type: SchemaType, text: string): string => `${type}\u0000${text}`;

export class SubjectStore {
  /** Subject → version number → entry. */
  readonly #subjects = new Map<string, Map<number, SchemaVersion>>();
  readonly #byId = new Map<number, { type: SchemaType; schema: string }>();
  readonly #idByIdentity = new Map<string, number>();
  /** Subject → its own level; the key `null` holds the global level when one was set. */
  readonly #levels = new Map<string | null, CompatibilityLevel>();
  #maxId = 0;

  /** Records a version (a new one, or the same one again marked deleted). */
  put(entry: SchemaVersion): void {
    let versions = this.#subjects.get(entry.subject);
    if (versions === undefined) this.#subjects.set(entry.subject, (versions = new Map()));
    versions.set(entry.version, entry);
    if (!this.#byId.has(entry.id)) this.#byId.set(entry.id, { type: entry.type, schema: entry.schema });
    this.#idByIdentity.set(identity(entry.type, entry.schema), entry.id);
    if (entry.id > this.#maxId) this.#maxId = entry.id;
  }

  /** Sets (or with `undefined` removes) the level of a subject, or the global one for `null`. */
  setLevel(subject: string | null, level: CompatibilityLevel | undefined): void {
    if (level === undefined) this.#levels.delete(subject);
    else this.#levels.set(subject, level);
  }

  /** The level set for `subject` (or globally for `null`), if one was. */
  level(subject: string | null): CompatibilityLevel | undefined {
    return this.#levels.get(subject);
  }

  /** The subject's versions that are not deleted, oldest first. */
  live(subject: string): SchemaVersion[] {
    const versions = this.#subjects.get(subject);
    if (versions === undefined) return [];
    return [...versions.values()].filter((v) => !v.deleted).sort((a, b) => a.version - b.version);
  }

  /** The highest version number the subject ever had, deleted ones included (0 if none). */
  maxVersion(subject: string): number {
    let max = 0;
    for (const v of this.#subjects.get(subject)?.keys() ?? []) if (v > max) max = v;
    return max;
  }

  /** Subjects with at least one version not deleted, sorted. */
  subjects(): string[] {
    return [...this.#subjects.keys()].filter((s) => this.live(s).length > 0).sort();
  }

  byId(id: number): { type: SchemaType; schema: string } | undefined {
    return this.#byId.get(id);
  }

  /** The id an identical schema already has, in any subject. */
  idOf(type: SchemaType, text: string): number | undefined {
    return this.#idByIdentity.get(identity(type, text));
  }

  /** The id a schema registered for the first time gets. */
  nextId(): number {
    return this.#maxId + 1;
  }
}
