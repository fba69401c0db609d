/**
 * A FileSystem wrapper that makes the k-th call of chosen operations fail like Node does
 * (`ENOSPC: no space left on device, write`, with `code`, `errno` and `syscall`), once or until
 * cleared — SQLite's I/O-error testing, for FileStorage. It also tracks the descriptors opened
 * through it, so a test can tell whether the storage closed every one it opened.
 */
import type { FileSystem } from '../../../src/storage/fs/file-system.js';

export const FAULTY_OPS = ['writev', 'writeSync', 'writeFileSync', 'fdatasync', 'fsync', 'fsyncSync', 'openSync', 'renameSync', 'ftruncateSync'] as const;
export type FaultyOp = (typeof FAULTY_OPS)[number];

export type FaultCode = 'ENOSPC' | 'EIO';

const ERRNO: Record<FaultCode, { errno: number; text: string }> = {
  ENOSPC: { errno: -28, text: 'no space left on device' },
  EIO: { errno: -5, text: 'i/o error' },
};

const SYSCALL: Record<FaultyOp, string> = {
  writev: 'write',
  writeSync: 'write',
  writeFileSync: 'write',
  fdatasync: 'fdatasync',
  fsync: 'fsync',
  fsyncSync: 'fsync',
  openSync: 'open',
  renameSync: 'rename',
  ftruncateSync: 'ftruncate',
};

const CALLBACK_OPS = new Set<FaultyOp>(['writev', 'fdatasync', 'fsync']);

export interface FaultPlan {
  /** Which call (1-based, counting only matching calls) fails first. */
  nth: number;
  code: FaultCode;
  /** `'once'`: only call `nth` fails; `'forever'`: every matching call from `nth` on, until cleared. */
  mode: 'once' | 'forever';
  /** The operations counted (default: all of {@link FAULTY_OPS}). */
  ops?: readonly FaultyOp[];
  /** Only calls on a path (or on a descriptor opened from a path) matching this are counted. */
  path?: RegExp;
}

export interface Hit {
  op: FaultyOp;
  call: number;
  path: string | undefined;
}

export function nodeError(code: FaultCode, syscall: string, path?: string): NodeJS.ErrnoException {
  const { errno, text } = ERRNO[code];
  const where = path === undefined ? '' : ` '${path}'`;
  return Object.assign(new Error(`${code}: ${text}, ${syscall}${where}`), { code, errno, syscall, ...(path === undefined ? {} : { path }) });
}

export interface FaultyFs {
  fs: FileSystem;
  /** Arms a plan (and restarts the count). */
  arm(plan: FaultPlan): void;
  /** Disarms: every call goes through again. */
  clear(): void;
  /** Matching calls seen since the plan was armed. */
  readonly calls: number;
  /** The calls that were failed. */
  readonly hits: Hit[];
  /** Descriptors opened through this wrapper and not closed yet, with their paths. */
  readonly openFds: Map<number, string>;
}

export function faultyFs(base: FileSystem): FaultyFs {
  let plan: FaultPlan | undefined;
  let calls = 0;
  const hits: Hit[] = [];
  const openFds = new Map<number, string>();

  const pathOf = (first: unknown): string | undefined => {
    if (typeof first === 'string') return first;
    if (first instanceof URL) return first.pathname;
    if (typeof first === 'number') return openFds.get(first);
    return undefined;
  };

  /** The error this call must fail with, if any. */
  const fault = (op: FaultyOp, first: unknown): NodeJS.ErrnoException | undefined => {
    if (plan === undefined) return undefined;
    if (plan.ops !== undefined && !plan.ops.includes(op)) return undefined;
    const path = pathOf(first);
    if (plan.path !== undefined && (path === undefined || !plan.path.test(path))) return undefined;
    calls++;
    const fail = plan.mode === 'once' ? calls === plan.nth : calls >= plan.nth;
    if (!fail) return undefined;
    hits.push({ op, call: calls, path });
    return nodeError(plan.code, SYSCALL[op], op === 'openSync' || op === 'renameSync' ? path : undefined);
  };

  const wrap = <K extends FaultyOp>(op: K): FileSystem[K] => {
    const real = base[op] as unknown as (...args: unknown[]) => unknown;
    if (CALLBACK_OPS.has(op)) {
      return ((...args: unknown[]) => {
        const error = fault(op, args[0]);
        if (error === undefined) return real(...args);
        const callback = args[args.length - 1] as (error: NodeJS.ErrnoException) => void;
        setImmediate(() => callback(error)); // Node reports fs errors asynchronously
        return undefined;
      }) as unknown as FileSystem[K];
    }
    return ((...args: unknown[]) => {
      const error = fault(op, args[0]);
      if (error !== undefined) throw error;
      const result = real(...args);
      if (op === 'openSync' && typeof result === 'number') openFds.set(result, String(pathOf(args[0])));
      return result;
    }) as unknown as FileSystem[K];
  };

  const fs: FileSystem = {
    closeSync: (fd) => {
      base.closeSync(fd);
      openFds.delete(fd);
    },
    existsSync: base.existsSync,
    fdatasync: wrap('fdatasync'),
    fsync: wrap('fsync'),
    fsyncSync: wrap('fsyncSync'),
    ftruncateSync: wrap('ftruncateSync'),
    mkdirSync: base.mkdirSync,
    openSync: wrap('openSync'),
    read: base.read,
    readFileSync: base.readFileSync,
    readSync: base.readSync,
    readdirSync: base.readdirSync,
    realpathSync: base.realpathSync,
    renameSync: wrap('renameSync'),
    rmSync: base.rmSync,
    statSync: base.statSync,
    unlink: base.unlink,
    unlinkSync: base.unlinkSync,
    writeFileSync: wrap('writeFileSync'),
    writeSync: wrap('writeSync'),
    writev: wrap('writev'),
  };

  return {
    fs,
    arm(p) {
      plan = p;
      calls = 0;
    },
    clear() {
      plan = undefined;
    },
    get calls() {
      return calls;
    },
    hits,
    openFds,
  };
}

/** Descriptors open in this process right now (Linux). */
export function processFdCount(readdirSync: (path: string) => string[]): number {
  return readdirSync('/proc/self/fd').length;
}
