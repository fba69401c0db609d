/**
 * Generates kafkalite's wire codecs (src/wire/protocol/messages/) from Apache Kafka's message specs.
 *
 *   npx tsx scripts/gen-protocol.ts                 regenerate the codecs from the committed model
 *   npx tsx scripts/gen-protocol.ts --import DIR --ref 3.9 --commit SHA
 *                                                   first re-import the model from the spec JSON
 *                                                   files in DIR (clients/src/main/resources/common/
 *                                                   message/ of an apache/kafka checkout)
 *   npx tsx scripts/gen-protocol.ts --check DIR     exit 1 unless the committed model is what DIR's
 *                                                   spec files import to (checks a Kafka upgrade)
 *   --out DIR                                       write the codecs somewhere else (tests use it)
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateFiles } from './protocol-gen/generate.js';
import { importSpecs, renderSpecModule } from './protocol-gen/import-specs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MODEL_FILE = join(root, 'scripts/kafka-protocol-spec/messages.ts');
export const MESSAGES_DIR = join(root, 'src/wire/protocol/messages');

/** Writes the generated files into `dir`, removing stale .ts files there. */
export function writeGenerated(dir: string, files: Map<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.endsWith('.ts') && !files.has(name)) rmSync(join(dir, name));
  for (const [name, text] of files) {
    const path = join(dir, name);
    let old: string | null = null;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = null;
    }
    if (old !== text) writeFileSync(path, text);
  }
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const checkDir = arg('--check');
  if (checkDir) {
    const { source } = (await import(pathToFileURL(MODEL_FILE).href)) as typeof import('./kafka-protocol-spec/messages.js');
    const same = renderSpecModule(importSpecs(checkDir), source) === readFileSync(MODEL_FILE, 'utf8');
    console.log(same ? `the model matches the specs in ${checkDir}` : `the model differs from the specs in ${checkDir}: re-import with --import`);
    if (!same) process.exitCode = 1;
    return;
  }
  const importDir = arg('--import');
  if (importDir) {
    const ref = arg('--ref');
    const commit = arg('--commit');
    if (!ref || !commit) throw new Error('--import needs --ref and --commit to record where the specs came from');
    const model = renderSpecModule(importSpecs(importDir), {
      repository: 'apache/kafka',
      ref,
      commit,
      path: 'clients/src/main/resources/common/message/',
    });
    writeFileSync(MODEL_FILE, model);
    console.log(`wrote ${MODEL_FILE}`);
  }
  const { messages } = (await import(pathToFileURL(MODEL_FILE).href)) as typeof import('./kafka-protocol-spec/messages.js');
  const out = resolve(arg('--out') ?? MESSAGES_DIR);
  const files = generateFiles(messages);
  writeGenerated(out, files);
  console.log(`wrote ${files.size} files to ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
