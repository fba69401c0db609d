import * as nodeFs from 'node:fs';

/**
 * The file-system calls FileStorage makes, and nothing else: the seam where tests inject faults
 * (fail the k-th write with ENOSPC or EIO, drop unsynced writes to model a power cut). The
 * default is Node's `fs`.
 */
export type FileSystem = Pick<
  typeof nodeFs,
  | 'closeSync'
  | 'existsSync'
  | 'fdatasync'
  | 'fsync'
  | 'fsyncSync'
  | 'ftruncateSync'
  | 'mkdirSync'
  | 'openSync'
  | 'read'
  | 'readFileSync'
  | 'readSync'
  | 'readdirSync'
  | 'realpathSync'
  | 'renameSync'
  | 'rmSync'
  | 'statSync'
  | 'unlink'
  | 'unlinkSync'
  | 'writeFileSync'
  | 'writeSync'
  | 'writev'
>;

export const nodeFileSystem: FileSystem = nodeFs;
