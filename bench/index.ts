/**
 * `npm run bench [-- [SCENARIO...] [--runs N] [--messages N] [--same-process]]`.
 *
 * Installs the benchmark peers into bench/node_modules first when they are missing or out of
 * date (`lib/install.ts`: on first use, and after bench/package-lock.json changed), then hands
 * over to the runner (`runner.ts`). The runner is imported only afterwards, since it loads the
 * peers (hdr-histogram-js) itself.
 */

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePeers } from './lib/install.js';

ensurePeers(path.dirname(fileURLToPath(import.meta.url)));
await import('./runner.js');
