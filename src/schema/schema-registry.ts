import { Broker, closeWithBroker } from '../broker/broker.js';
import { closed, incompatibleSchema, invalidArgument, show, unknownSchema } from '../errors.js';
import {
  checkCompatibilityLevel,
  compatibilityProblems,
  DEFAULT_COMPATIBILITY,
  type CompatibilityLevel,
  type EarlierVersion,
} from './compatibility.js';
import { checkSchemaType, parseSchema, type ParsedSchema, type SchemaType } from './parsed-schema.js';
import { checkRegistryOptions, resolveRegistryListenOptions, type RegistryListenOptions, type SchemaRegistryOptions } from './registry-options.js';
import { serveRegistry, type RegistryListener } from './rest-server.js';
import { SchemasTopic } from './schemas-topic.js';
import { SubjectStore, type SchemaVersion } from './subject-store.js';

/** A schema by its global id (one id may be registered under several subjects). */
export interface RegisteredSchema {
  readonly id: number;
  readonly type: SchemaType;
  /** The schema's JSON text, in the registry's normal form. */
  readonly schema: string;
}

/** One version of a subject. */
export interface SubjectSchema extends RegisteredSchema {
  readonly subject: string;
  readonly version: number;
}

export interface RegisterOptions {
  /** @default 'AVRO' */
  type?: SchemaType;
}

export interface CompatibilityCheckOptions extends RegisterOptions {
  /**
   * Check against this version only (or `'latest'`), in the direction the subject's level asks;
   * without it, against the versions the level names (all of them for a `_TRANSITIVE` level).
   */
  version?: number | 'latest';
}

export interface CompatibilityResult {
  readonly compatible: boolean;
  /** Why not, one line per problem; empty when compatible. */
  readonly messages: string[];
}

/** Brokers whose `_schemas` a registry open now writes. */
/** Marks a broker that has a registry (a global symbol: both builds of the package see it). */
const SERVED = Symbol.for('kafkalite.schemaRegistry');

/** A schema the registry holds, parsed: what the Avro serde reads and writes with. */
export let parsedSchemaById: (registry: SchemaRegistry, id: number) => Promise<ParsedSchema>;
/** Runs `stop` when the registry closes (what its REST servers use); returns the undo. */
export let onRegistryClose: (registry: SchemaRegistry, stop: () => Promise<void>) => () => void;
/** The level set on `subject` itself (or globally for `null`), without falling back. */
export let ownCompatibility: (registry: SchemaRegistry, subject: string | null) => Promise<CompatibilityLevel | undefined>;

/**
 * Confluent Schema Registry's model, in process: subjects with numbered versions, schemas with
 * global ids (an identical schema keeps its id in every subject), and compatibility levels that
 * decide whether a new version may follow the earlier ones. Every change is appended to the
 * `_schemas` topic (Confluent's format) before it takes effect, so a registry over a broker on
 * FileStorage has its subjects, versions, ids and levels again when reopened.
 *
 * Concurrency: any method may be called at any time without awaiting the others. Changes
 * (`register`, `setCompatibility`, `deleteSubject`) are serialised in call order: the same schema
 * registered twice at once gets one id and one version. Reads see every change whose promise
 * resolved. `close` lets the changes already called finish; calls after it reject with `CLOSED`.
 */
export class SchemaRegistry {
  readonly #options: SchemaRegistryOptions;
  readonly #store = new SubjectStore();
  /** Parsed schemas by id, parsed on first use. */
  readonly #parsed = new Map<number, Promise<ParsedSchema>>();
  #opening: Promise<SchemasTopic> | undefined;
  #ownBroker: Broker | undefined;
  #changes: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;
  readonly #onClose = new Set<() => Promise<void>>();

  static {
    parsedSchemaById = (registry, id) => registry.#parsedById(id);
    onRegistryClose = (registry, stop) => {
      registry.#onClose.add(stop);
      return () => registry.#onClose.delete(stop);
    };
    ownCompatibility = async (registry, subject) => {
      await registry.#ready();
      return registry.#store.level(subject);
    };
  }

  #detach: (() => void) | undefined;

  constructor(options: SchemaRegistryOptions = {}) {
    this.#options = checkRegistryOptions(options);
    const { broker } = this.#options;
    if (broker !== undefined) {
      // Two writers of one _schemas would hand out the same ids: one registry per broker — marked
      // on the broker itself, so that the ESM and CommonJS builds loaded side by side agree.
      const marked = broker as unknown as Record<symbol, unknown>;
      if (marked[SERVED] === true) throw invalidArgument('that broker already has a SchemaRegistry: share it, or close it first');
      marked[SERVED] = true;
      // The broker's close closes the registry (its REST servers too).
      this.#detach = closeWithBroker(broker, this);
    }
  }

  /**
   * Registers `schema` under `subject` and resolves with its global id and the subject's version
   * for it. A schema identical to one of the subject's versions returns that version; one
   * identical to a schema of another subject gets a new version here with the same id.
   * `INVALID_SCHEMA` if it does not parse; `INCOMPATIBLE_SCHEMA` if it breaks the subject's
   * compatibility level (nothing is registered then).
   */
  async register(subject: string, schema: unknown, options: RegisterOptions = {}): Promise<{ id: number; version: number }> {
    checkSubject(subject);
    const type = checkSchemaType(options.type);
    this.#checkOpen();
    // Parsed while earlier changes run, but queued now: a close() called after this waits for it.
    const parsing = parseSchema(type, schema);
    parsing.catch(() => undefined);
    return this.#change(async (topic) => {
      const parsed = await parsing;
      const live = this.#store.live(subject);
      const same = live.find((v) => v.type === type && v.schema === parsed.text);
      if (same !== undefined) return { id: same.id, version: same.version };
      const level = this.#levelOf(subject);
      const problems = compatibilityProblems(level, parsed, await this.#earlier(live));
      if (problems.length > 0) throw incompatibleSchema(subject, level, problems);
      const id = this.#store.idOf(type, parsed.text) ?? this.#store.nextId();
      const entry: SchemaVersion = { subject, version: this.#store.maxVersion(subject) + 1, id, type, schema: parsed.text, deleted: false };
      await topic.append([{ keytype: 'SCHEMA', entry }]);
      this.#store.put(entry);
      if (!this.#parsed.has(id)) this.#parsed.set(id, Promise.resolve(parsed));
      return { id, version: entry.version };
    });
  }

  /** The version of `subject` whose schema is identical to `schema`; `UNKNOWN_SCHEMA` if none. */
  async lookup(subject: string, schema: unknown, options: RegisterOptions = {}): Promise<SubjectSchema> {
    checkSubject(subject);
    const type = checkSchemaType(options.type);
    const parsed = await parseSchema(type, schema);
    await this.#ready();
    const found = this.#store.live(subject).find((v) => v.type === type && v.schema === parsed.text);
    if (found === undefined) throw unknownSchema(`that schema under subject ${show(subject)}`);
    return view(found);
  }

  /** The schema with global id `id`; `UNKNOWN_SCHEMA` if there is none. */
  async getById(id: number): Promise<RegisteredSchema> {
    checkId(id);
    await this.#ready();
    const found = this.#store.byId(id);
    if (found === undefined) throw unknownSchema(`schema id ${id}`);
    return { id, type: found.type, schema: found.schema };
  }

  /** The subject's newest version; `UNKNOWN_SCHEMA` if the subject has none. */
  latest(subject: string): Promise<SubjectSchema> {
    return this.version(subject, 'latest');
  }

  /** One version of the subject (`'latest'` for the newest); `UNKNOWN_SCHEMA` if it has no such version. */
  async version(subject: string, version: number | 'latest'): Promise<SubjectSchema> {
    checkSubject(subject);
    if (version !== 'latest' && (!Number.isSafeInteger(version) || version < 1)) {
      throw invalidArgument(`version must be a positive integer or 'latest' (got ${show(version)})`);
    }
    await this.#ready();
    const live = this.#store.live(subject);
    if (live.length === 0) throw unknownSchema(`subject ${show(subject)}`);
    const found = version === 'latest' ? live[live.length - 1] : live.find((v) => v.version === version);
    if (found === undefined) throw unknownSchema(`version ${version} of subject ${show(subject)}`);
    return view(found);
  }

  /** Subjects with at least one version, sorted. */
  async subjects(): Promise<string[]> {
    await this.#ready();
    return this.#store.subjects();
  }

  /** The subject's version numbers, oldest first; `UNKNOWN_SCHEMA` if it has none. */
  async versions(subject: string): Promise<number[]> {
    checkSubject(subject);
    await this.#ready();
    const live = this.#store.live(subject);
    if (live.length === 0) throw unknownSchema(`subject ${show(subject)}`);
    return live.map((v) => v.version);
  }

  /**
   * Whether `schema` could be registered under `subject` now (nothing is registered). With
   * `version`, it is checked against that version only.
   */
  async testCompatibility(subject: string, schema: unknown, options: CompatibilityCheckOptions = {}): Promise<CompatibilityResult> {
    const type = checkSchemaType(options.type);
    const parsed = await parseSchema(type, schema);
    let level = await this.compatibility(subject);
    let live = this.#store.live(subject);
    if (options.version !== undefined) {
      const one = await this.version(subject, options.version);
      live = live.filter((v) => v.version === one.version);
      level = level.replace('_TRANSITIVE', '') as CompatibilityLevel;
    }
    const messages = compatibilityProblems(level, parsed, await this.#earlier(live));
    return { compatible: messages.length === 0, messages };
  }

  /**
   * Sets the compatibility level of `subject`, or without one the global level that subjects
   * without their own follow. Not retroactive: only later registrations are checked by it.
   */
  async setCompatibility(level: CompatibilityLevel, subject?: string): Promise<void> {
    checkCompatibilityLevel(level);
    if (subject !== undefined) checkSubject(subject);
    this.#checkOpen();
    await this.#change(async (topic) => {
      await topic.append([{ keytype: 'CONFIG', subject: subject ?? null, level }]);
      this.#store.setLevel(subject ?? null, level);
    });
  }

  /** The level that applies to `subject` (its own, else the global one), or the global level. */
  async compatibility(subject?: string): Promise<CompatibilityLevel> {
    if (subject !== undefined) checkSubject(subject);
    await this.#ready();
    return this.#levelOf(subject);
  }

  /**
   * Deletes every version of `subject` (Confluent's soft delete: their ids still resolve with
   * `getById`, and registering again continues the version numbers) and resolves with the
   * version numbers deleted. `UNKNOWN_SCHEMA` if the subject has no versions.
   */
  async deleteSubject(subject: string): Promise<number[]> {
    checkSubject(subject);
    this.#checkOpen();
    return this.#change(async (topic) => {
      const live = this.#store.live(subject);
      if (live.length === 0) throw unknownSchema(`subject ${show(subject)}`);
      const deleted = live.map((v) => ({ ...v, deleted: true }));
      await topic.append(deleted.map((entry) => ({ keytype: 'SCHEMA', entry })));
      for (const entry of deleted) this.#store.put(entry);
      return live.map((v) => v.version);
    });
  }

  /**
   * Serves Confluent Schema Registry's REST API for this registry on a TCP port (loopback unless
   * `host` says otherwise), so that Confluent's clients and serializers can use it. A port that
   * cannot be bound is `INVALID_ARGUMENT` with the OS error as `cause`. Closing the registry
   * closes its servers.
   */
  async listen(options?: RegistryListenOptions): Promise<RegistryListener> {
    const resolved = resolveRegistryListenOptions(options);
    await this.#ready();
    const listener = await serveRegistry(this, resolved);
    if (this.#closing !== undefined) {
      // close() was called while the port was being bound, and did not see this server.
      await listener.close();
      throw closed('schema registry');
    }
    return listener;
  }

  /**
   * Waits for the changes already called, stops anything serving this registry and closes the
   * registry's own broker (never one passed as `broker`). Safe to call twice.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#changes.catch(() => undefined);
      await Promise.all([...this.#onClose].map((stop) => stop()));
      const topic = await this.#opening?.catch(() => undefined);
      await topic?.close();
      await this.#ownBroker?.close();
      this.#detach?.();
      if (this.#options.broker !== undefined) delete (this.#options.broker as unknown as Record<symbol, unknown>)[SERVED];
    })();
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closed('schema registry');
  }

  #ready(): Promise<SchemasTopic> {
    this.#checkOpen();
    return this.#open();
  }

  /**
   * Opens `_schemas` (and the registry's own broker) on first use and replays it. A failure (a
   * locked folder, a damaged record) is not kept: what was opened is closed and the next call
   * tries again.
   */
  #open(): Promise<SchemasTopic> {
    this.#opening ??= (async () => {
      let broker = this.#options.broker;
      if (broker === undefined) {
        broker = this.#ownBroker = await Broker.open(this.#options.storage === undefined ? {} : { storage: this.#options.storage });
      }
      const topic = await SchemasTopic.open(broker);
      try {
        // Replaying again after a failed replay gives the same state: records apply in order and overwrite.
        await topic.replay((record) => {
          if (record.keytype === 'SCHEMA') this.#store.put(record.entry);
          else this.#store.setLevel(record.subject, record.level);
        });
      } catch (error) {
        await topic.close();
        throw error;
      }
      return topic;
    })().catch(async (error: unknown) => {
      this.#opening = undefined;
      await this.#ownBroker?.close().catch(() => undefined);
      this.#ownBroker = undefined;
      throw error;
    });
    return this.#opening;
  }

  /** Runs `change` after every change called before it, with `_schemas` open. */
  #change<T>(change: (topic: SchemasTopic) => Promise<T>): Promise<T> {
    const run = this.#changes.then(async () => change(await this.#open()));
    this.#changes = run.catch(() => undefined);
    return run;
  }

  #levelOf(subject: string | undefined): CompatibilityLevel {
    return (subject === undefined ? undefined : this.#store.level(subject)) ?? this.#store.level(null) ?? DEFAULT_COMPATIBILITY;
  }

  /** `live` parsed, for a compatibility check (each schema is parsed once, then cached). */
  async #earlier(live: readonly SchemaVersion[]): Promise<EarlierVersion[]> {
    return Promise.all(live.map(async (v) => ({ version: v.version, schema: await this.#parsedById(v.id) })));
  }

  async #parsedById(id: number): Promise<ParsedSchema> {
    let parsed = this.#parsed.get(id);
    if (parsed === undefined) {
      const { type, schema } = await this.getById(id);
      parsed = this.#parsed.get(id);
      if (parsed === undefined) {
        parsed = parseSchema(type, schema);
        this.#parsed.set(id, parsed);
        parsed.catch(() => this.#parsed.delete(id));
      }
    }
    return parsed;
  }
}

function view(v: SchemaVersion): SubjectSchema {
  return { subject: v.subject, version: v.version, id: v.id, type: v.type, schema: v.schema };
}

function checkSubject(subject: unknown): asserts subject is string {
  // eslint-disable-next-line no-control-regex
  if (typeof subject !== 'string' || subject.length === 0 || /[\u0000-\u001f]/.test(subject)) {
    throw invalidArgument(`subject must be a non-empty string without control characters (got ${show(subject)})`);
  }
}

function checkId(id: unknown): void {
  if (!Number.isSafeInteger(id) || (id as number) < 1) throw invalidArgument(`schema id must be a positive integer (got ${show(id)})`);
}
