import { join, resolve } from 'node:path';
import { LRUCache } from 'lru-cache';
import { SystemClock, type Clock, type ClockTimer } from '../../clock.js';
import { describeError, ProblemLog, stderrLogger } from '../../logger.js';
import { invalidArgument, show, storageCorrupt, storageIo, storageLocked } from '../../errors.js';
import type { PartitionLog, Storage, StorageContext, StoredTopic } from '../storage.js';
import { FdCache } from './fd-cache.js';
import { syncDirSync } from './file-io.js';
import { FileLog, type FileLogContext, type FsyncMode } from './file-log.js';
import { parsePartitionDirName, partitionDirName } from './file-names.js';
import { nodeFileSystem, type FileSystem } from './file-system.js';
import { DirLock } from './lock.js';
import type { LogSegment } from './log-segment.js';
import { isTopicId, newTopicId } from '../topic-id.js';

/** Written at a clean close, removed at open: its absence means the last run crashed. */
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
/** Per partition, the offset below which the log was fsynced (Kafka's file and text format). */
export const RECOVERY_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
/** Per partition, where DeleteRecords moved the log's start (Kafka's file and text format). */
export const LOG_START_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** Topics, their ids and configs. */
export const TOPICS_FILE = 'topics.json';
/** 2: topics carry their `id` (format v3). Version 1 files (no ids) are still read. */
const TOPICS_VERSION = 2;

export interface FileStorageOptions {
  /** The folder holding everything; created if missing. */
  dir: string;
  /**
   * When appended records reach the disk: `'always'` — a `send` resolves only after fsync (sends
   * waiting together share one fsync); `'interval'` — every `fsyncIntervalMs`; `'never'` — when
   * the OS decides (a process crash loses nothing, a power cut may).
   * @default 'always'
   */
  fsync?: FsyncMode;
  /** @default 1000 */
  fsyncIntervalMs?: number;
  /** Caps every topic's `segmentBytes`. @default no cap (the topic's own, 1 GiB by default) */
  segmentBytes?: number;
  /** File descriptors kept open at most (segments reopen on demand). @default 512 */
  maxOpenFiles?: number;
  /** Indexes of sealed segments kept in memory at most (reloaded on demand). @default 1024 */
  maxLoadedIndexes?: number;
  /** How often the recovery checkpoint is written: after a crash, only what came later is scanned. @default 10000 */
  checkpointIntervalMs?: number;
  /** The file-system calls to use; tests pass a wrapper that injects faults. @default Node's `fs` */
  fs?: FileSystem;
}

/**
 * Kafka's log layout on disk: `dir/<topic>-<partition>/<20-digit base offset>.log` holding
 * RecordBatch v2 bytes exactly as Kafka writes them, beside sparse `.index` and `.timeindex`
 * files; `topics.json` for topic configs (written to a temp file, fsynced, renamed); Kafka's
 * `recovery-point-offset-checkpoint` and clean-shutdown marker so that opening after a clean
 * close scans nothing and after a crash scans only the tail. Format: docs/format.md.
 *
 * Concurrency: one broker per folder (`STORAGE_LOCKED` otherwise, across processes too); within
 * it, each partition log serialises its own writes.
 */
export class FileStorage implements Storage {
  readonly dir: string;
  #options: Required<Omit<FileStorageOptions, 'segmentBytes' | 'fs'>> & { segmentBytes: number | undefined };
  #fs: FileSystem;
  #topics = new Map<string, StoredTopic>();
  #logs = new Map<string, FileLog[]>();
  #lock: DirLock;
  #fds: FdCache;
  #indexes: LRUCache<LogSegment, true>;
  #clock: Clock = new SystemClock();
  #log = new ProblemLog(stderrLogger, this.#clock);
  #timers = new Map<string, ClockTimer>();
  #open = false;

  constructor(options: FileStorageOptions) {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir.length === 0) {
      throw invalidArgument(`FileStorage needs { dir: string } (got ${show(options)})`);
    }
    const known = ['dir', 'fsync', 'fsyncIntervalMs', 'segmentBytes', 'maxOpenFiles', 'maxLoadedIndexes', 'checkpointIntervalMs', 'fs'];
    for (const key of Object.keys(options)) if (!known.includes(key)) throw invalidArgument(`unknown FileStorage option ${show(key)}`);
    const o = {
      fsync: options.fsync ?? 'always',
      fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
      segmentBytes: options.segmentBytes,
      maxOpenFiles: options.maxOpenFiles ?? 512,
      maxLoadedIndexes: options.maxLoadedIndexes ?? 1024,
      checkpointIntervalMs: options.checkpointIntervalMs ?? 10_000,
      dir: resolve(options.dir),
    };
    if (!['always', 'interval', 'never'].includes(o.fsync)) throw invalidArgument(`fsync must be 'always', 'interval' or 'never' (got ${show(o.fsync)})`);
    for (const key of ['fsyncIntervalMs', 'maxOpenFiles', 'maxLoadedIndexes', 'checkpointIntervalMs'] as const) {
      if (!Number.isSafeInteger(o[key]) || o[key] < 1) throw invalidArgument(`${key} must be a positive integer (got ${show(o[key])})`);
    }
    if (o.segmentBytes !== undefined && (!Number.isSafeInteger(o.segmentBytes) || o.segmentBytes < 14)) {
      throw invalidArgument(`segmentBytes must be an integer >= 14 (got ${show(o.segmentBytes)})`);
    }
    this.dir = o.dir;
    this.#options = o;
    this.#fs = options.fs ?? nodeFileSystem;
    this.#lock = new DirLock(o.dir, this.#fs);
    this.#fds = new FdCache(o.maxOpenFiles, this.#fs);
    this.#indexes = new LRUCache<LogSegment, true>({ max: o.maxLoadedIndexes, dispose: (_, segment) => segment.unloadIndex() });
  }

  async open(context?: StorageContext): Promise<StoredTopic[]> {
    if (this.#open) throw storageLocked(this.dir);
    try {
      this.#fs.mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw storageIo(`creating ${this.dir}`, error);
    }
    this.#lock.acquire();
    try {
      this.#clock = context?.clock ?? this.#clock;
      this.#log = new ProblemLog(context?.logger ?? stderrLogger, this.#clock);
      const marker = join(this.dir, CLEAN_SHUTDOWN_FILE);
      const clean = this.#fs.existsSync(marker);
      if (clean) {
        try {
          this.#fs.unlinkSync(marker);
          syncDirSync(this.#fs, this.dir);
        } catch (error) {
          throw storageIo(`removing ${marker}`, error);
        }
      }
      const checkpoint = this.#readCheckpoint(RECOVERY_CHECKPOINT_FILE);
      const logStarts = this.#readCheckpoint(LOG_START_CHECKPOINT_FILE);
      this.#topics = new Map(this.#readTopics().map((t) => [t.name, t]));
      this.#logs = new Map();
      let createdDirs = false;
      for (const topic of this.#topics.values()) {
        const logs: FileLog[] = [];
        for (let p = 0; p < topic.partitions; p++) {
          const recoveryPoint = checkpoint.get(`${topic.name} ${p}`) ?? 0;
          const logStartOffset = logStarts.get(`${topic.name} ${p}`) ?? 0;
          const dir = this.#partitionDir(topic.name, p);
          const log = FileLog.open(dir, this.#context(topic.name), { clean, recoveryPoint, logStartOffset });
          createdDirs ||= log.createdDir;
          // Offsets below the recovery point were on disk: a log that ends before it lost files
          // (a torn tail cut at open was reported as such).
          if (log.logEndOffset < recoveryPoint && !log.tailCut) {
            throw storageCorrupt(dir, 0, `the log ends at offset ${log.logEndOffset}, but offsets below ${recoveryPoint} were on disk at the last checkpoint: segment files (or the folder) are missing`, {
              topic: topic.name,
              partition: p,
              offset: log.logEndOffset,
            });
          }
          logs.push(log);
        }
        this.#logs.set(topic.name, logs);
      }
      // A partition folder made here (its old one was lost) needs its entry in this folder
      // durable before a record is acknowledged in it. saveTopic gets that from topics.json's
      // folder sync, which comes after the partition folders are made.
      if (createdDirs) syncDirSync(this.#fs, this.dir);
      this.#open = true;
      this.#startTimers();
      return [...this.#topics.values()].map(copyTopic);
    } catch (error) {
      this.#fds.clear();
      this.#lock.release();
      throw error;
    }
  }

  async saveTopic(topic: StoredTopic): Promise<void> {
    const existing = this.#logs.get(topic.name);
    if (existing === undefined) {
      // A folder left by a topic of that name deleted in a crash must not leak into the new one.
      for (let p = 0; p < topic.partitions; p++) this.#remove(this.#partitionDir(topic.name, p));
    }
    const logs = existing ?? [];
    while (logs.length < topic.partitions) {
      logs.push(FileLog.open(this.#partitionDir(topic.name, logs.length), this.#context(topic.name), { clean: true, recoveryPoint: 0 }));
    }
    const previous = this.#topics.get(topic.name);
    const before = existing?.length ?? 0;
    this.#logs.set(topic.name, logs);
    this.#topics.set(topic.name, copyTopic(topic));
    try {
      this.#writeTopics();
    } catch (error) {
      // Not saved: forget it, or the next successful write would save it.
      for (const log of logs.splice(before)) await log.destroy();
      if (previous === undefined) {
        this.#topics.delete(topic.name);
        this.#logs.delete(topic.name);
      } else this.#topics.set(topic.name, previous);
      throw error;
    }
  }

  async deleteTopic(name: string): Promise<void> {
    const logs = this.#logs.get(name) ?? [];
    this.#topics.delete(name);
    this.#logs.delete(name);
    this.#writeTopics();
    // A start offset kept for the deleted topic must not carry over to one created under its name.
    if (this.#fs.existsSync(join(this.dir, LOG_START_CHECKPOINT_FILE))) this.#writeLogStarts();
    for (const log of logs) await log.destroy();
  }

  log(topic: string, partition: number): PartitionLog {
    const log = this.#logs.get(topic)?.[partition];
    if (log === undefined) throw invalidArgument(`no log for ${topic}-${partition}: save the topic first`, { topic, partition });
    return log;
  }

  /** Flushes every log, writes the checkpoint and the clean-shutdown marker, and unlocks. */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t);
    this.#timers.clear();
    try {
      let failed: unknown;
      for (const logs of this.#logs.values()) for (const log of logs) await log.close().catch((error: unknown) => (failed ??= error));
      if (failed !== undefined) throw failed; // no clean-shutdown marker: the next open recovers
      this.#writeCheckpoint();
      writeDurably(this.#fs, join(this.dir, CLEAN_SHUTDOWN_FILE), '');
    } finally {
      this.#fds.clear();
      this.#indexes.clear();
      this.#lock.release();
    }
  }

  #context(topic: string): FileLogContext {
    return {
      fs: this.#fs,
      fds: this.#fds,
      indexes: this.#indexes,
      fsync: this.#options.fsync,
      log: this.#log,
      saveLogStarts: () => this.#writeLogStarts(),
      segmentBytes: () => Math.min(this.#topics.get(topic)?.config.segmentBytes ?? Infinity, this.#options.segmentBytes ?? Infinity),
    };
  }

  #partitionDir(topic: string, partition: number): string {
    return join(this.dir, partitionDirName(topic, partition));
  }

  #startTimers(): void {
    const every = (name: string, ms: number, work: () => Promise<void>): void => {
      const timer = this.#clock.setTimeout(async () => {
        if (!this.#open) return;
        // A failure here surfaces again on the next append or close; until then, it is logged.
        await work().catch((error: unknown) => this.#log.error(`${name} ${this.dir}`, `background ${name} of ${this.dir} failed: ${describeError(error)}`, { error }));
        if (this.#open) every(name, ms, work);
      }, ms);
      timer.unref?.();
      this.#timers.set(name, timer);
    };
    if (this.#options.fsync === 'interval') {
      every('fsync', this.#options.fsyncIntervalMs, async () => {
        for (const logs of this.#logs.values()) for (const log of logs) if (log.dirty) await log.flush();
      });
    }
    every('checkpoint', this.#options.checkpointIntervalMs, async () => this.#writeCheckpoint());
  }

  #readTopics(): StoredTopic[] {
    const path = join(this.dir, TOPICS_FILE);
    let text: string;
    try {
      text = this.#fs.readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.#orphanCheck([]);
      throw storageIo(`reading ${path}`, error);
    }
    let parsed: { version?: unknown; topics?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (error) {
      throw storageCorrupt(path, 0, `not JSON (${(error as Error).message})`);
    }
    if ((parsed.version !== TOPICS_VERSION && parsed.version !== 1) || !Array.isArray(parsed.topics)) {
      throw storageCorrupt(path, 0, `expected { version: ${TOPICS_VERSION}, topics: [...] }`);
    }
    const topics = parsed.topics as StoredTopic[];
    for (const t of topics) {
      // A version 1 file was written before topics had ids: each topic gets one now, kept from
      // the next write of this file on (every write holds every topic).
      if (parsed.version === 1) t.id = newTopicId();
      else if (t.id !== undefined && !isTopicId(t.id)) throw storageCorrupt(path, 0, `topic ${show(t.name)} has an id that is not a topic id (got ${show(t.id)})`);
    }
    return this.#orphanCheck(topics);
  }

  /** Partition folders of topics that are not saved (a delete cut short) are removed. */
  #orphanCheck(topics: StoredTopic[]): StoredTopic[] {
    const known = new Map(topics.map((t) => [t.name, t.partitions]));
    let names: string[];
    try {
      names = this.#fs.readdirSync(this.dir);
    } catch (error) {
      throw storageIo(`listing ${this.dir}`, error);
    }
    for (const name of names) {
      const tp = parsePartitionDirName(name);
      if (tp === undefined) continue;
      const partitions = known.get(tp.topic);
      if (partitions === undefined || tp.partition >= partitions) this.#remove(join(this.dir, name));
    }
    return topics;
  }

  /** Removes a partition folder and everything in it. */
  #remove(dir: string): void {
    try {
      this.#fs.rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      throw storageIo(`removing ${dir}`, error);
    }
  }

  #writeTopics(): void {
    const body = JSON.stringify({ version: TOPICS_VERSION, topics: [...this.#topics.values()] }, null, 2);
    writeDurably(this.#fs, join(this.dir, TOPICS_FILE), body);
  }

  /** A Kafka offset-checkpoint file (`0`, a count, then `<topic> <partition> <offset>` lines). */
  #readCheckpoint(file: string): Map<string, number> {
    const out = new Map<string, number>();
    let text: string;
    try {
      text = this.#fs.readFileSync(join(this.dir, file), 'utf8');
    } catch {
      return out; // none yet: recovery scans whole logs
    }
    const lines = text.split('\n').filter((l) => l.length > 0);
    if (lines[0] !== '0') return out;
    for (const line of lines.slice(2)) {
      const parts = line.split(' ');
      const offset = Number(parts.pop());
      const partition = Number(parts.pop());
      if (Number.isSafeInteger(offset) && Number.isInteger(partition)) out.set(`${parts.join(' ')} ${partition}`, offset);
    }
    return out;
  }

  #writeCheckpoint(): void {
    this.#writeOffsets(RECOVERY_CHECKPOINT_FILE, (log) => log.flushedEnd);
  }

  #writeLogStarts(): void {
    this.#writeOffsets(LOG_START_CHECKPOINT_FILE, (log) => log.logStartOffset);
  }

  #writeOffsets(file: string, offset: (log: FileLog) => number): void {
    const lines: string[] = [];
    for (const [topic, logs] of this.#logs) logs.forEach((log, p) => lines.push(`${topic} ${p} ${offset(log)}`));
    writeDurably(this.#fs, join(this.dir, file), `0\n${lines.length}\n${lines.join('\n')}\n`);
  }
}

/** Temp file, fsync, rename, fsync the folder: a crash leaves the old or the new file, never a mix. */
function writeDurably(fs: FileSystem, path: string, body: string): void {
  const tmp = `${path}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, body);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    syncDirSync(fs, join(path, '..'));
  } catch (error) {
    throw storageIo(`writing ${path}`, error);
  }
}

function copyTopic(t: StoredTopic): StoredTopic {
  return t.id === undefined ? { name: t.name, partitions: t.partitions, config: { ...t.config } } : { name: t.name, id: t.id, partitions: t.partitions, config: { ...t.config } };
}
