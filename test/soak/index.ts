/**
 * Soak runner: `npm run soak -- [group] [options]`. Runs a model-based test far longer than
 * `npm test` does, with random seeds; see each soak's file for its options. Exits 1 on failure.
 */
import { groupSoak } from './group-soak.js';

const soaks: Record<string, (argv: string[]) => Promise<boolean>> = { group: groupSoak };

const [first, ...rest] = process.argv.slice(2);
const name = first === undefined || first.startsWith('-') ? 'group' : first;
const argv = first === undefined || first.startsWith('-') ? process.argv.slice(2) : rest;
const soak = soaks[name];
if (soak === undefined) {
  console.error(`unknown soak ${JSON.stringify(name)}; known: ${Object.keys(soaks).join(', ')}`);
  process.exit(2);
}
const ok = await soak(argv);
process.exitCode = ok ? 0 : 1;
