/** Bytes of one `.timeindex` entry. */
export const TIME_ENTRY_SIZE = 12;

/** What a `.timeindex` file holds, as far as its whole entries go. */
export interface TimeIndexFile {
  /** The whole entries kept (those up to the relative offset asked for). */
  entries: Buffer;
  /** The largest timestamp of the kept entries (their last), or -1. */
  maxTimestamp: number;
  /** Whether the file was present, non-empty and held no partial entry. */
  whole: boolean;
}

/**
 * A segment's sparse time index, Kafka's `.timeindex` layout: 12-byte big-endian entries, each an
 * int64 timestamp — the largest record timestamp in the segment so far — and the int32 offset,
 * relative to the segment's base, of the last record of the batch that brought it. An entry is
 * written only when that largest timestamp grows, so entries increase in both fields.
 *
 * Time retention goes by a segment's largest timestamp, which is the file's last entry: the file
 * is read for that (see {@link TimeIndex.read}) and otherwise only appended to. In memory it
 * holds the entries added since it was made, and the largest timestamp so far.
 *
 * Concurrency: in memory and synchronous; the owning segment appends new entries to the file.
 */
export class TimeIndex {
  readonly baseOffset: number;
  #timestamps: number[] = [];
  #relOffsets: number[] = [];
  /** The largest timestamp indexed so far (also by entries only on disk): entries only grow. */
  #last = -1;

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  /** The largest timestamp indexed so far, or -1. */
  get maxTimestamp(): number {
    return this.#last;
  }

  /** Adds an entry if `maxTimestamp` grew; returns its bytes for the file, or undefined. */
  add(maxTimestamp: number, lastOffset: number): Buffer | undefined {
    if (maxTimestamp <= this.#last) return undefined;
    this.#last = maxTimestamp;
    const rel = lastOffset - this.baseOffset;
    this.#timestamps.push(maxTimestamp);
    this.#relOffsets.push(rel);
    const entry = Buffer.allocUnsafe(TIME_ENTRY_SIZE);
    entry.writeBigInt64BE(BigInt(maxTimestamp), 0);
    entry.writeInt32BE(rel, 8);
    return entry;
  }

  /** Continues a file whose entries (up to `timestamp`) stay on disk only. */
  seed(timestamp: number): void {
    if (timestamp > this.#last) this.#last = timestamp;
  }

  /** The bytes of the entries held in memory. */
  bytes(): Buffer {
    const b = Buffer.allocUnsafe(this.#timestamps.length * TIME_ENTRY_SIZE);
    for (let i = 0; i < this.#timestamps.length; i++) {
      b.writeBigInt64BE(BigInt(this.#timestamps[i]!), i * TIME_ENTRY_SIZE);
      b.writeInt32BE(this.#relOffsets[i]!, i * TIME_ENTRY_SIZE + 8);
    }
    return b;
  }

  /**
   * A file's whole entries — only those up to relative offset `maxRelOffset` when given (after
   * the log was cut back) — and their largest timestamp. A partial last entry is left out.
   */
  static read(file: Buffer, maxRelOffset?: number): TimeIndexFile {
    let end = file.length - (file.length % TIME_ENTRY_SIZE);
    if (maxRelOffset !== undefined) while (end >= TIME_ENTRY_SIZE && file.readInt32BE(end - 4) > maxRelOffset) end -= TIME_ENTRY_SIZE;
    const entries = file.subarray(0, end);
    return {
      entries,
      maxTimestamp: end >= TIME_ENTRY_SIZE ? Number(entries.readBigInt64BE(end - TIME_ENTRY_SIZE)) : -1,
      whole: file.length > 0 && file.length % TIME_ENTRY_SIZE === 0,
    };
  }
}
