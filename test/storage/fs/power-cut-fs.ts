/**
 * A FileSystem wrapper that remembers, per file, how many bytes an fsync (or fdatasync) made
 * durable, so a test can model a power cut: the folder as the disk would hold it after losing
 * everything not yet synced. Files are append-only or written whole, so "the first N bytes"
 * is what survives; a rename carries the synced state with the file. A file never synced keeps
 * nothing (and, conservatively, neither does a rename or creation whose folder was not synced
 * — kafkalite syncs folders after both, so that case does not arise for acknowledged data).
 */
import { cpSync, readdirSync, statSync, truncateSync, type Mode, type OpenMode, type PathLike } from 'node:fs';
import { join, relative } from 'node:path';
import type { FileSystem } from '../../../src/storage/fs/file-system.js';

export interface PowerCutFs {
  fs: FileSystem;
  /** Copies `dir` to `to` as a power cut would leave it. */
  cutInto(dir: string, to: string): void;
}

export function powerCutFs(base: FileSystem): PowerCutFs {
  const pathOf = new Map<number, string>();
  const synced = new Map<string, number>();
  const record = (fd: number): void => {
    const path = pathOf.get(fd);
    if (path !== undefined) synced.set(path, statSync(path).size);
  };
  const fs: FileSystem = {
    ...base,
    openSync: ((path: PathLike, flags?: OpenMode, mode?: Mode) => {
      const fd = base.openSync(path, flags ?? 'r', mode);
      pathOf.set(fd, String(path));
      return fd;
    }) as FileSystem['openSync'],
    closeSync: ((fd: number) => {
      pathOf.delete(fd);
      base.closeSync(fd);
    }) as FileSystem['closeSync'],
    fsyncSync: ((fd: number) => {
      base.fsyncSync(fd);
      record(fd);
    }) as FileSystem['fsyncSync'],
    fdatasync: ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      base.fdatasync(fd, (error) => {
        if (error === null) record(fd);
        callback(error);
      });
    }) as FileSystem['fdatasync'],
    fsync: ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => {
      base.fsync(fd, (error) => {
        if (error === null) record(fd);
        callback(error);
      });
    }) as FileSystem['fsync'],
    renameSync: ((from: string, to: string) => {
      base.renameSync(from, to);
      const size = synced.get(String(from));
      synced.delete(String(from));
      if (size !== undefined) synced.set(String(to), size);
      else synced.delete(String(to));
    }) as FileSystem['renameSync'],
  };
  return {
    fs,
    cutInto(dir, to) {
      cpSync(dir, to, { recursive: true });
      const walk = (d: string): void => {
        for (const entry of readdirSync(d, { withFileTypes: true })) {
          const path = join(d, entry.name);
          if (entry.isDirectory()) walk(path);
          else truncateSync(path, Math.min(statSync(path).size, synced.get(join(dir, relative(to, path))) ?? 0));
        }
      };
      walk(to);
    },
  };
}
