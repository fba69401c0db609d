import { FILE_HEADER, emitCodecFile } from './emit-codec.js';
import { API_NAMES } from './import-specs.js';
import { type MessageSpec, formatVersions } from './spec-types.js';

/** messages/ file name of an API: Kafka's name in kebab case (ListOffsets → list-offsets.ts). */
export const apiFileName = (api: string): string => `${api.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}.ts`;

interface ApiPair {
  readonly api: string;
  readonly request: MessageSpec;
  readonly response: MessageSpec;
}

function pairs(messages: readonly MessageSpec[]): ApiPair[] {
  const byName = new Map(messages.map((m) => [m.name, m]));
  return API_NAMES.map((api) => {
    const request = byName.get(`${api}Request`);
    const response = byName.get(`${api}Response`);
    if (!request || !response) throw new Error(`spec model lacks ${api}Request or ${api}Response`);
    if (request.apiKey === undefined || request.apiKey !== response.apiKey) throw new Error(`${api}: api keys differ`);
    if (formatVersions(request.validVersions) !== formatVersions(response.validVersions)) {
      throw new Error(`${api}: request and response versions differ`);
    }
    if (formatVersions(request.flexibleVersions) !== formatVersions(response.flexibleVersions)) {
      throw new Error(`${api}: request and response flexible versions differ`);
    }
    return { api, request, response };
  }).sort((a, b) => a.request.apiKey! - b.request.apiKey!);
}

function emitIndex(apis: readonly ApiPair[]): string {
  const lines = [
    ...FILE_HEADER,
    '// The table of every generated API, by api key.',
    '',
    "import type { ApiCodec } from '../api-codec.js';",
  ];
  for (const { api, request, response } of apis) {
    const file = apiFileName(api).replace(/\.ts$/, '.js');
    const names = [request.name, response.name];
    lines.push(
      `import { ${names.flatMap((n) => [`type ${n}`, `decode${n}`, `encode${n}`]).join(', ')} } from './${file}';`,
    );
  }
  lines.push('');
  lines.push("export * from './headers.js';");
  for (const { api } of apis) lines.push(`export * from './${apiFileName(api).replace(/\.ts$/, '.js')}';`);
  lines.push('', '/** The api keys of the generated APIs, by Kafka\'s name. */', 'export const ApiKey = {');
  for (const { api, request } of apis) lines.push(`  ${api}: ${request.apiKey},`);
  lines.push('} as const;', 'export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];', '');
  lines.push('/** Request and response type of each api key. */', 'export interface ApiMessageTypes {');
  for (const { request, response } of apis) {
    lines.push(`  ${request.apiKey}: { request: ${request.name}; response: ${response.name} };`);
  }
  lines.push('}', '');
  lines.push(
    'export type ApiCodecs = {',
    "  readonly [K in ApiKey]: ApiCodec<ApiMessageTypes[K]['request'], ApiMessageTypes[K]['response']>;",
    '};',
    '',
    '/** The codec of every generated API, by api key. */',
    'export const apis: ApiCodecs = {',
  );
  for (const { api, request, response } of apis) {
    const [lo, hi] = request.validVersions;
    const stable = request.latestVersionUnstable || response.latestVersionUnstable ? hi - 1 : hi;
    const flex = request.flexibleVersions ? String(request.flexibleVersions[0]) : 'Infinity';
    lines.push(
      `  ${request.apiKey}: {`,
      `    apiKey: ${request.apiKey},`,
      `    name: '${api}',`,
      `    minVersion: ${lo},`,
      `    maxVersion: ${hi},`,
      `    maxStableVersion: ${stable},`,
      `    flexibleMin: ${flex},`,
      `    decodeRequest: decode${request.name},`,
      `    encodeRequest: encode${request.name},`,
      `    decodeResponse: decode${response.name},`,
      `    encodeResponse: encode${response.name},`,
      '  },',
    );
  }
  lines.push('};', '');
  return lines.join('\n');
}

/**
 * Every file under src/wire/protocol/messages/, by file name, generated from the spec model.
 * Pure and deterministic: the same model gives the same bytes.
 */
export function generateFiles(messages: readonly MessageSpec[]): Map<string, string> {
  const files = new Map<string, string>();
  const byName = new Map(messages.map((m) => [m.name, m]));
  const headers = ['RequestHeader', 'ResponseHeader'].map((n) => {
    const m = byName.get(n);
    if (!m) throw new Error(`spec model lacks ${n}`);
    return m;
  });
  files.set('headers.ts', emitCodecFile(headers, 'Request header v0-2 and response header v0-1.'));
  const apis = pairs(messages);
  const seen = new Map<string, string>();
  for (const { api, request, response } of apis) {
    const file = apiFileName(api);
    const flex = request.flexibleVersions ? `, flexible from ${request.flexibleVersions[0]}` : ', never flexible';
    const text = emitCodecFile(
      [request, response],
      `Kafka API ${request.apiKey} (${api}): request and response, versions ${formatVersions(request.validVersions)}${flex}.`,
    );
    // Struct names must be unique across files, since the index re-exports every file.
    for (const m of text.matchAll(/^export interface (\w+)/gm)) {
      const prev = seen.get(m[1]!);
      if (prev) throw new Error(`interface ${m[1]} is emitted by both ${prev} and ${file}`);
      seen.set(m[1]!, file);
    }
    files.set(file, text);
  }
  files.set('index.ts', emitIndex(apis));
  return files;
}
