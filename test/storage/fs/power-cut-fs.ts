/**
 * A FileSystem wrapper that remembers what an fsync made durable, so a test can model a power
 * cut: the folder as the disk would hold it after losing everything not yet synced.
 *
 * - File contents: per file, how many bytes an fsync (or fdatasync) of it made durable. Files are
 *   append-only or written whole, so "the first N bytes" is what survives; a file never synced
 *   keeps nothing. A rename carries the synced state with the file.
 * - Folder entries: a file or folder created, or renamed into place, is an entry of its parent
 *   folder, and the entry is durable only once that folder is fsynced afterwards (a file's own
 *   fsync does not make its name durable). A cut loses every entry whose folder was not fsynced
 *   since — the file or folder is gone, with everything in it.
 *
 * Deletions are taken as durable at once (the cut copy lacks what was deleted).
 */
import { cpSync, existsSync, readdirSync, rmSync, statSync, truncateSync, type MakeDirectoryOptions, type Mode, type OpenMode, type PathLike } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { FileSystem } from '../../../src/storage/fs/file-system.js';

export interface PowerCutFs {
  fs: FileSystem;
  /** Copies `dir` to `to` as a power cut would leave it. */
  cutInto(dir: string, to: string): void;
  /** How many times `dir` was fsynced (a folder fsync) so far. */
  dirSyncs(dir: string): number;
  /** Entries created or renamed into place whose folder was not fsynced since, oldest first. */
  unsyncedEntries(): string[];
}

export function powerCutFs(base: FileSystem): PowerCutFs {
  const pathOf = new Map<number, string>();
  const synced = new Map<string, number>();
  const unsynced = new Set<string>();
  const dirSyncs = new Map<string, number>();

  const created = (path: string): void => {
    unsynced.delete(path); // re-added last: the order is the order of creation
    unsynced.add(path);
  };
  const removed = (path: string): void => {
    for (const p of [...unsynced]) if (p === path || p.startsWith(path + sep)) unsynced.delete(p);
    for (const p of [...synced.keys()]) if (p === path || p.startsWith(path + sep)) synced.delete(p);
  };
  const record = (fd: number): void => {
    const path = pathOf.get(fd);
    if (path === undefined) return;
    if (statSync(path).isDirectory()) {
      for (const p of [...unsynced]) if (dirname(p) === path) unsynced.delete(p);
      dirSyncs.set(path, (dirSyncs.get(path) ?? 0) + 1);
    } else {
      synced.set(path, statSync(path).size);
    }
  };

  const fs: FileSystem = {
    ...base,
    openSync: ((path: PathLike, flags?: OpenMode, mode?: Mode) => {
      const p = resolve(String(path));
      const existed = existsSync(p);
      const fd = base.openSync(path, flags ?? 'r', mode);
      pathOf.set(fd, p);
      if (!existed) created(p);
      return fd;
    }) as FileSystem['openSync'],
    closeSync: ((fd: number) => {
      pathOf.delete(fd);
      base.closeSync(fd);
    }) as FileSystem['closeSync'],
    mkdirSync: ((path: PathLike, options?: MakeDirectoryOptions) => {
      const first = base.mkdirSync(path, options);
      if (first !== undefined) {
        // Every folder from the first one made down to `path` is a new entry.
        const made: string[] = [];
        for (let p = resolve(String(path)); p.length >= first.length; p = dirname(p)) made.unshift(p);
        for (const p of made) created(p);
      }
      return first;
    }) as FileSystem['mkdirSync'],
    writeFileSync: ((file: PathLike | number, data: string | NodeJS.ArrayBufferView, options?: unknown) => {
      const p = typeof file === 'number' ? undefined : resolve(String(file));
      const existed = p === undefined || existsSync(p);
      (base.writeFileSync as (f: unknown, d: unknown, o?: unknown) => void)(file, data, options);
      if (!existed) created(p!);
    }) as FileSystem['writeFileSync'],
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
    renameSync: ((from: PathLike, to: PathLike) => {
      const f = resolve(String(from));
      const t = resolve(String(to));
      base.renameSync(from, to);
      const size = synced.get(f);
      removed(f);
      synced.delete(t);
      if (size !== undefined) synced.set(t, size);
      created(t);
    }) as FileSystem['renameSync'],
    unlinkSync: ((path: PathLike) => {
      base.unlinkSync(path);
      removed(resolve(String(path)));
    }) as FileSystem['unlinkSync'],
    unlink: ((path: PathLike, callback: (error: NodeJS.ErrnoException | null) => void) => {
      base.unlink(path, (error) => {
        if (error === null) removed(resolve(String(path)));
        callback(error);
      });
    }) as FileSystem['unlink'],
    rmSync: ((path: PathLike, options?: Parameters<FileSystem['rmSync']>[1]) => {
      base.rmSync(path, options);
      removed(resolve(String(path)));
    }) as FileSystem['rmSync'],
  };

  return {
    fs,
    cutInto(dir, to) {
      const root = resolve(dir);
      cpSync(root, to, { recursive: true });
      // Entries whose folder was not fsynced are gone (a folder with everything in it).
      for (const p of unsynced) if (p.startsWith(root + sep)) rmSync(join(to, relative(root, p)), { recursive: true, force: true });
      const walk = (d: string): void => {
        for (const entry of readdirSync(d, { withFileTypes: true })) {
          const path = join(d, entry.name);
          if (entry.isDirectory()) walk(path);
          else truncateSync(path, Math.min(statSync(path).size, synced.get(join(root, relative(to, path))) ?? 0));
        }
      };
      walk(to);
    },
    dirSyncs: (dir) => dirSyncs.get(resolve(dir)) ?? 0,
    unsyncedEntries: () => [...unsynced],
  };
}
