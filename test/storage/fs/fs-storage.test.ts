import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from 'kafkalite';
import { describeStorageContract } from '../contract.js';

describeStorageContract(
  'FileStorage',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kafkalite-contract-'));
    return {
      storage: new FileStorage({ dir }),
      reopen: async () => new FileStorage({ dir }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { retentionGranularity: 'segment' },
);
