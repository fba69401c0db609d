import {
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchSize,
  checkBatch,
  isControlBatch,
  LOG_OVERHEAD,
  RECORD_BATCH_HEADER_SIZE,
} from '../../codec/record-batch.js';
import { storageIo } from '../../errors.js';
import type { FileSystem } from './file-system.js';

/** What the batch a walk starts at must be. */
export type WalkStart =
  /** A batch starting at `baseOffset` (the segment's base, or the offset after a known batch). */
  | { position: number; baseOffset: number }
  /** The batch an index entry names: it must end at `lastOffset` (or the index is wrong). */
  | { position: number; lastOffset: number };

/**
 * Where a walk stands after {@link BatchReader.next}:
 * - `batch`: a whole, valid batch (its fields are on the reader);
 * - `need`: bytes must be read first ({@link BatchReader.fill} or {@link BatchReader.fillSync}),
 *   then `next` again;
 * - `end`: the walk reached `end`;
 * - `damage`: the bytes at {@link BatchReader.damage} are not the batch that must come next;
 * - `mismatch`: the first batch is whole but does not end where the index entry said.
 */
export type Step = 'batch' | 'need' | 'end' | 'damage' | 'mismatch';

const EMPTY = Buffer.alloc(0);

/**
 * The one way to walk the batches of a segment's `.log`, used by reads and by recovery alike.
 * Each batch is checked before it is handed out: a whole header, a length that neither falls
 * short of a header nor runs past `end`, magic 2 and CRC-32C ({@link checkBatch}), and offsets
 * following on from the one before — the CRC does not cover `baseOffset`, so a batch that
 * checks out at the wrong offset is damage too, never data.
 *
 * The walk itself does no I/O: when it needs bytes it says where (`need`), and the caller reads
 * them with `fill` (reads, asynchronously) or `fillSync` (recovery at open) — so both read the
 * same way, in chunks of a size they choose. Each fill gets a fresh buffer: batches handed out
 * are views into it and stay valid.
 *
 * Concurrency: one walk, one caller; `end` may be moved between steps (a read follows the
 * segment's size as write rounds complete or are undone).
 */
export class BatchReader {
  readonly path: string;
  /** Where whole batches end: the walk never reads past it. */
  end: number;
  /** Where the next batch starts (just past the last one returned). */
  position: number;
  /** After `batch`: where the batch starts, its length and offsets. */
  batchPosition = 0;
  batchLength = 0;
  baseOffset = 0;
  lastOffset = 0;
  /** After `damage`: where and why. */
  damage: { position: number; reason: string } | undefined;
  /** The base offset the next batch must have; undefined before an index entry's batch. */
  #nextOffset: number | undefined;
  /** The last offset an index entry says its batch ends at (checked on the first batch only). */
  #entryLast: number | undefined;
  #buf: Buffer = EMPTY;
  #bufStart = 0;
  /** The last fill got fewer bytes than asked: the file ends before `end`. */
  #short = false;
  #needLength = 0;

  constructor(path: string, start: WalkStart, end: number) {
    this.path = path;
    this.position = start.position;
    this.end = end;
    if ('baseOffset' in start) this.#nextOffset = start.baseOffset;
    else this.#entryLast = start.lastOffset;
  }

  /** The offset the next batch must start at (after at least one batch, or from a known base). */
  get nextOffset(): number | undefined {
    return this.#nextOffset;
  }

  /** Takes the next step of the walk (see {@link Step}). */
  next(): Step {
    const pos = this.position;
    if (pos >= this.end) return 'end';
    const left = this.end - pos;
    if (left < RECORD_BATCH_HEADER_SIZE) return this.#damaged(pos, `${left} bytes left, fewer than a batch header`);
    if (!this.#has(pos, RECORD_BATCH_HEADER_SIZE)) return this.#need(pos, RECORD_BATCH_HEADER_SIZE);
    const at = pos - this.#bufStart;
    const length = batchSize(this.#buf, at);
    if (length < RECORD_BATCH_HEADER_SIZE) return this.#damaged(pos, `batch length ${length - LOG_OVERHEAD} is smaller than a header`);
    if (length > left) return this.#damaged(pos, `batch length ${length - LOG_OVERHEAD} runs past the end of the segment (${left - LOG_OVERHEAD} bytes left)`);
    if (!this.#has(pos, length)) return this.#need(pos, length);
    const bad = checkBatch(this.#buf, at, at + length);
    if (bad !== undefined) return this.#damaged(pos, bad);
    const base = batchBaseOffset(this.#buf, at);
    const last = batchLastOffset(this.#buf, at);
    if (this.#nextOffset === undefined) {
      if (last !== this.#entryLast) return 'mismatch';
    } else if (base !== this.#nextOffset) {
      return this.#damaged(pos, `batch starts at offset ${base}, expected ${this.#nextOffset}`);
    }
    this.batchPosition = pos;
    this.batchLength = length;
    this.baseOffset = base;
    this.lastOffset = last;
    this.#nextOffset = last + 1;
    this.position = pos + length;
    return 'batch';
  }

  /** The current batch's bytes: a view, valid for as long as the caller keeps it. */
  batch(): Buffer {
    const at = this.batchPosition - this.#bufStart;
    return this.#buf.subarray(at, at + this.batchLength);
  }

  /** Whether the current batch is a control batch (a transaction marker). */
  isControl(): boolean {
    return isControlBatch(this.#buf, this.batchPosition - this.#bufStart);
  }

  /** The current batch's largest record timestamp. */
  maxTimestamp(): number {
    return batchMaxTimestamp(this.#buf, this.batchPosition - this.#bufStart);
  }

  /** Reads what `next` said it needs — at least `chunk` bytes when the segment has them. */
  fill(fs: FileSystem, fd: number, chunk: number): Promise<void> {
    const position = this.position;
    const buf = Buffer.allocUnsafe(this.#want(position, chunk));
    return new Promise((resolve, reject) => {
      fs.read(fd, buf, 0, buf.length, position, (error, got) => {
        if (error !== null) return reject(storageIo(`reading ${this.path}`, error));
        this.#filled(buf, position, got);
        resolve();
      });
    });
  }

  /** {@link fill}, synchronously (recovery at open). */
  fillSync(fs: FileSystem, fd: number, chunk: number): void {
    this.#load(fs, fd, this.position, this.#want(this.position, chunk));
  }

  /**
   * Whether a whole, valid batch that could come next starts anywhere after the damage — then
   * the damage is inside the log, not a torn tail (a torn write leaves nothing valid behind it).
   * The damaged batch's own length cannot be trusted, so every later position is tried. Only a
   * batch that could come next counts: a copy of an earlier batch inside a record's value (torn
   * off at the tail) is no evidence of a damaged middle.
   */
  validBatchFollows(fs: FileSystem, fd: number, chunk: number): boolean {
    const from = this.damage!.position;
    const next = this.#nextOffset ?? -1;
    for (let q = from + 1; q + RECORD_BATCH_HEADER_SIZE <= this.end; q++) {
      if (!this.#has(q, RECORD_BATCH_HEADER_SIZE)) this.#load(fs, fd, q, Math.min(Math.max(RECORD_BATCH_HEADER_SIZE, chunk), this.end - q));
      let at = q - this.#bufStart;
      if (this.#buf.length - at < RECORD_BATCH_HEADER_SIZE) return false; // the file ends before `end`
      if (this.#buf[at + 16] !== 2) continue; // magic
      const length = batchSize(this.#buf, at);
      if (length < RECORD_BATCH_HEADER_SIZE || q + length > this.end) continue;
      if (!this.#has(q, length)) this.#load(fs, fd, q, Math.min(Math.max(length, chunk), this.end - q));
      at = q - this.#bufStart;
      if (this.#buf.length - at < length) continue;
      const base = batchBaseOffset(this.#buf, at);
      if (base <= next || base > next + (q - from)) continue;
      if (checkBatch(this.#buf, at, at + length) === undefined) return true;
    }
    return false;
  }

  #has(position: number, length: number): boolean {
    return position >= this.#bufStart && position + length <= this.#bufStart + this.#buf.length;
  }

  #need(position: number, length: number): Step {
    if (this.#short && this.#bufStart === position) {
      return this.#damaged(position, `the file ends at byte ${position + this.#buf.length}, before the segment does (${this.end})`);
    }
    this.#needLength = length;
    return 'need';
  }

  #damaged(position: number, reason: string): Step {
    this.damage = { position, reason };
    return 'damage';
  }

  #want(position: number, chunk: number): number {
    return Math.max(0, Math.min(Math.max(this.#needLength, chunk), this.end - position));
  }

  #load(fs: FileSystem, fd: number, position: number, length: number): void {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    try {
      while (got < length) {
        const n = fs.readSync(fd, buf, got, length - got, position + got);
        if (n === 0) break;
        got += n;
      }
    } catch (error) {
      throw storageIo(`reading ${this.path}`, error);
    }
    this.#filled(buf, position, got);
  }

  #filled(buf: Buffer, position: number, got: number): void {
    this.#buf = got === buf.length ? buf : buf.subarray(0, got);
    this.#bufStart = position;
    this.#short = got < buf.length;
  }
}
