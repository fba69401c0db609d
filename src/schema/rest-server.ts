/**
 * Confluent Schema Registry's REST API over a {@link SchemaRegistry}, on node:http: the endpoints
 * the common clients use (Confluent's serializers, `@kafkajs/confluent-schema-registry`), with
 * Confluent's content type and error bodies `{ error_code, message }`.
 *
 *   POST   /subjects/{s}/versions                  register        → { id }
 *   POST   /subjects/{s}                           look up         → { subject, version, id, schema }
 *   GET    /subjects                               subjects        → [s, …]
 *   GET    /subjects/{s}/versions                  versions        → [1, 2, …]
 *   GET    /subjects/{s}/versions/{v|latest}[/schema]
 *   DELETE /subjects/{s}                           soft delete     → [1, 2, …]
 *   GET    /schemas/ids/{id}[/schema]              by global id    → { schema, schemaType? }
 *   GET    /schemas/types                                          → ["AVRO", "JSON"]
 *   POST   /compatibility/subjects/{s}/versions[/{v|latest}]       → { is_compatible[, messages] }
 *   GET|PUT /config, /config/{s}                   levels          ← { compatibility } → …
 *
 * Error codes: 40401 subject not found, 40402 version not found, 40403 schema not found, 40408
 * subject has no level of its own, 409 incompatible schema, 42201 invalid schema, 42202 invalid
 * version, 42203 invalid compatibility level, 422 other bad input, 50001 the registry failed.
 *
 * Concurrency: requests are served concurrently; the registry serialises the changes they make.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { invalidArgument, KafkaliteError } from '../errors.js';
import { isCompatibilityLevel } from './compatibility.js';
import type { RegistryListenOptions } from './registry-options.js';
import { onRegistryClose, ownCompatibility, type SchemaRegistry, type SubjectSchema } from './schema-registry.js';

/** A registry served over HTTP: what `registry.listen(options)` returns. */
export interface RegistryListener {
  /** `host:port` the server is bound to, e.g. `'127.0.0.1:8081'` (the port picked when `port` was 0). */
  readonly address: string;
  /** Stops accepting, closes open connections and frees the port. Safe to call twice. */
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Larger request bodies are refused (a schema is a few KiB). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** An answer that is not 200: Confluent's status and `error_code`. */
class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export async function serveRegistry(registry: SchemaRegistry, options: Required<RegistryListenOptions>): Promise<RegistryListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    handle(registry, request, response).catch(() => response.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(invalidArgument(`cannot serve the schema registry on ${options.host}:${options.port}: ${error.message}`, { cause: error })));
    server.listen({ port: options.port, host: options.host }, resolve);
  });
  server.on('error', () => undefined);
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      forget();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  const forget = onRegistryClose(registry, close);
  return { address: `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`, close };
}

async function handle(registry: SchemaRegistry, request: IncomingMessage, response: ServerResponse): Promise<void> {
  let status = 200;
  let body: unknown;
  try {
    const url = new URL(request.url ?? '/', 'http://registry');
    const path = url.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
    const input = request.method === 'POST' || request.method === 'PUT' ? await readJson(request) : undefined;
    body = await route(registry, request.method ?? 'GET', path, url.searchParams, input);
  } catch (error) {
    const e = restErrorOf(error);
    status = e.status;
    body = { error_code: e.code, message: e.message };
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

async function route(registry: SchemaRegistry, method: string, path: string[], query: URLSearchParams, input: unknown): Promise<unknown> {
  const [head, a, b, c, d] = path;
  const n = path.length;
  const is = (m: string, length: number): boolean => method === m && n === length;
  if (n === 0 && method === 'GET') return {};
  if (head === 'subjects') {
    if (is('GET', 1)) return registry.subjects();
    const subject = a!;
    if (is('POST', 2)) {
      const { schema, type } = schemaOf(input);
      await requireSubject(registry, subject);
      return restSchema(await notFound(registry.lookup(subject, schema, { type }), 40403, `schema not found under subject "${subject}"`));
    }
    if (is('DELETE', 2)) {
      if (query.get('permanent') === 'true') throw new RestError(422, 422, 'permanent deletes are not supported by kafkalite: subjects are soft-deleted');
      return notFound(registry.deleteSubject(subject), 40401, `subject "${subject}" not found`);
    }
    if (b === 'versions') {
      if (is('GET', 3)) return notFound(registry.versions(subject), 40401, `subject "${subject}" not found`);
      if (is('POST', 3)) {
        const { schema, type } = schemaOf(input);
        const { id } = await registry.register(subject, schema, { type });
        return { id };
      }
      if (method === 'GET' && (n === 4 || (n === 5 && d === 'schema'))) {
        const found = await versionOf(registry, subject, c!);
        return n === 5 ? JSON.parse(found.schema) : restSchema(found);
      }
    }
  }
  if (head === 'schemas') {
    if (is('GET', 2) && a === 'types') return ['AVRO', 'JSON'];
    if (a === 'ids' && method === 'GET' && (n === 3 || (n === 4 && c === 'schema'))) {
      const id = Number(b);
      if (!Number.isSafeInteger(id) || id < 1) throw new RestError(404, 40403, `schema ${b} not found`);
      const found = await notFound(registry.getById(id), 40403, `schema ${id} not found`);
      if (n === 4) return JSON.parse(found.schema);
      return { schema: found.schema, ...(found.type === 'AVRO' ? {} : { schemaType: found.type }) };
    }
  }
  if (head === 'compatibility' && a === 'subjects' && c === 'versions' && method === 'POST' && (n === 4 || n === 5)) {
    const subject = b!;
    const { schema, type } = schemaOf(input);
    let version: number | 'latest' | undefined;
    if (n === 5) {
      // A subject without versions has nothing to be incompatible with (as Confluent answers).
      if ((d === 'latest' || d === '-1') && !(await registry.subjects()).includes(subject)) return { is_compatible: true };
      version = (await versionOf(registry, subject, d!)).version;
    }
    const result = await registry.testCompatibility(subject, schema, { type, ...(version === undefined ? {} : { version }) });
    return { is_compatible: result.compatible, ...(query.get('verbose') === 'true' ? { messages: result.messages } : {}) };
  }
  if (head === 'config' && n <= 2) {
    const subject = a;
    if (method === 'GET') {
      const own = await ownCompatibility(registry, subject ?? null);
      if (subject !== undefined && own === undefined && query.get('defaultToGlobal') !== 'true') {
        throw new RestError(404, 40408, `subject "${subject}" does not have subject-level compatibility configured`);
      }
      return { compatibilityLevel: own ?? (await registry.compatibility()) };
    }
    if (method === 'PUT') {
      const level = (input as { compatibility?: unknown } | null)?.compatibility;
      if (!isCompatibilityLevel(level)) throw new RestError(422, 42203, `invalid compatibility level ${JSON.stringify(level)}: one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE`);
      await registry.setCompatibility(level, subject);
      return { compatibility: level };
    }
  }
  throw new RestError(404, 404, `HTTP ${method} /${path.join('/')} is not an endpoint of the schema registry`);
}

/** The subject's version named in a path (`latest`, `-1` or a number), with Confluent's not-found codes. */
async function versionOf(registry: SchemaRegistry, subject: string, text: string): Promise<SubjectSchema> {
  const version = text === 'latest' || text === '-1' ? 'latest' : Number(text);
  if (version !== 'latest' && (!Number.isSafeInteger(version) || version < 1)) {
    throw new RestError(422, 42202, `invalid version ${JSON.stringify(text)}: a positive integer, "latest" or -1`);
  }
  await requireSubject(registry, subject);
  return notFound(registry.version(subject, version), 40402, `version ${text} of subject "${subject}" not found`);
}

async function requireSubject(registry: SchemaRegistry, subject: string): Promise<void> {
  if (!(await registry.subjects()).includes(subject)) throw new RestError(404, 40401, `subject "${subject}" not found`);
}

/** `call`, with UNKNOWN_SCHEMA answered as `code`. */
async function notFound<T>(call: Promise<T>, code: number, message: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof KafkaliteError && error.code === 'UNKNOWN_SCHEMA') throw new RestError(404, code, message);
    throw error;
  }
}

function restSchema(s: SubjectSchema): object {
  return { subject: s.subject, version: s.version, id: s.id, ...(s.type === 'AVRO' ? {} : { schemaType: s.type }), schema: s.schema };
}

/** The `{ schema, schemaType?, references? }` body of a register, look-up or compatibility request. */
function schemaOf(input: unknown): { schema: string; type: 'AVRO' | 'JSON' } {
  const { schema, schemaType, references } = (input ?? {}) as { schema?: unknown; schemaType?: unknown; references?: unknown };
  if (typeof schema !== 'string') throw new RestError(422, 42201, 'the request body needs "schema": the schema as a JSON string');
  if (schemaType !== undefined && schemaType !== 'AVRO' && schemaType !== 'JSON') {
    throw new RestError(422, 42201, `schemaType ${JSON.stringify(schemaType)} is not supported: kafkalite's registry takes AVRO and JSON`);
  }
  if (Array.isArray(references) && references.length > 0) throw new RestError(422, 42201, 'schema references are not supported by kafkalite');
  return { schema, type: schemaType ?? 'AVRO' };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RestError(413, 413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw new RestError(400, 400, `the request body is not JSON: ${(error as Error).message}`);
  }
}

function restErrorOf(error: unknown): RestError {
  if (error instanceof RestError) return error;
  if (error instanceof KafkaliteError) {
    switch (error.code) {
      case 'INCOMPATIBLE_SCHEMA':
        return new RestError(409, 409, error.message);
      case 'INVALID_SCHEMA':
        return new RestError(422, 42201, error.message);
      case 'INVALID_ARGUMENT':
        return new RestError(422, 422, error.message);
      case 'UNKNOWN_SCHEMA':
        return new RestError(404, 40403, error.message);
      default:
        return new RestError(500, 50001, `${error.code}: ${error.message}`);
    }
  }
  return new RestError(500, 50001, error instanceof Error ? error.message : String(error));
}
