/**
 * A segment's sparse indexes, Kafka's layout (big-endian):
 * - `.index`: 8-byte entries — int32 offset relative to the segment's base (the last offset of a
 *   batch), int32 byte position of that batch in the `.log`.
 * - `.timeindex`: 12-byte entries — int64 largest timestamp so far, int32 relative offset.
 *
 * One entry is added every `indexIntervalBytes` of log. The log is always trusted over its
 * indexes: an index that fails {@link OffsetIndex.validate} is rebuilt from the log.
 *
 * Concurrency: in memory and synchronous; the owning segment writes new entries to disk.
 */
export class OffsetIndex {
  readonly baseOffset: number;
  #relOffsets: number[] = [];
  #positions: number[] = [];
  #timestamps: number[] = [];
  #timeRelOffsets: number[] = [];
  /** The largest timestamp indexed so far (also from entries not loaded): time entries only grow. */
  #lastTimestamp = -1;

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  get entries(): number {
    return this.#relOffsets.length;
  }

  /** Adds an entry for a batch ending at `lastOffset`, stored at `position`; returns its bytes for the `.index` file. */
  add(lastOffset: number, position: number): Buffer {
    const rel = lastOffset - this.baseOffset;
    this.#relOffsets.push(rel);
    this.#positions.push(position);
    const entry = Buffer.allocUnsafe(8);
    entry.writeInt32BE(rel, 0);
    entry.writeInt32BE(position, 4);
    return entry;
  }

  /** Adds a time entry when `maxTimestamp` grew; returns its bytes for the `.timeindex` file, or undefined. */
  addTime(maxTimestamp: number, lastOffset: number): Buffer | undefined {
    if (maxTimestamp <= this.#lastTimestamp) return undefined;
    this.#lastTimestamp = maxTimestamp;
    const rel = lastOffset - this.baseOffset;
    this.#timestamps.push(maxTimestamp);
    this.#timeRelOffsets.push(rel);
    const entry = Buffer.allocUnsafe(12);
    entry.writeBigInt64BE(BigInt(maxTimestamp), 0);
    entry.writeInt32BE(rel, 8);
    return entry;
  }

  /** Continues a time index whose earlier entries (up to `timestamp`) stay on disk only. */
  seedTime(timestamp: number): void {
    if (timestamp > this.#lastTimestamp) this.#lastTimestamp = timestamp;
  }

  /** The byte position to start reading from to find `offset`: the largest entry at or below it. */
  lookup(offset: number): number {
    return this.floor(offset)?.position ?? 0;
  }

  /** The largest entry at or below `offset` (`Infinity`: the last entry), if any. */
  floor(offset: number): { offset: number; position: number } | undefined {
    const rel = offset - this.baseOffset;
    const rels = this.#relOffsets;
    let lo = 0;
    let hi = rels.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (rels[mid]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? undefined : { offset: this.baseOffset + rels[found]!, position: this.#positions[found]! };
  }

  /** Drops entries at or past `position` (after the log was cut back there). */
  truncateTo(position: number): void {
    let n = this.#positions.length;
    while (n > 0 && this.#positions[n - 1]! >= position) n--;
    this.#relOffsets.length = n;
    this.#positions.length = n;
  }

  /** The `.index` file's bytes. */
  indexBytes(): Buffer {
    const b = Buffer.allocUnsafe(this.#relOffsets.length * 8);
    for (let i = 0; i < this.#relOffsets.length; i++) {
      b.writeInt32BE(this.#relOffsets[i]!, i * 8);
      b.writeInt32BE(this.#positions[i]!, i * 8 + 4);
    }
    return b;
  }

  /** The `.timeindex` file's bytes. */
  timeIndexBytes(): Buffer {
    const b = Buffer.allocUnsafe(this.#timestamps.length * 12);
    for (let i = 0; i < this.#timestamps.length; i++) {
      b.writeBigInt64BE(BigInt(this.#timestamps[i]!), i * 12);
      b.writeInt32BE(this.#timeRelOffsets[i]!, i * 12 + 8);
    }
    return b;
  }

  /**
   * Loads an index from its file bytes; undefined when they cannot be right for a log of
   * `logSize` bytes (a partial entry, offsets or positions not increasing, a position past the end).
   */
  static load(baseOffset: number, bytes: Uint8Array, logSize: number): OffsetIndex | undefined {
    if (bytes.length % 8 !== 0) return undefined;
    // Every segment indexes its first batch: a non-empty log with no entry at 0 has a bad index.
    if (logSize > 0 && (bytes.length === 0 || Buffer.from(bytes.buffer, bytes.byteOffset, 8).readInt32BE(4) !== 0)) return undefined;
    const index = new OffsetIndex(baseOffset);
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let prevRel = -1;
    let prevPos = -1;
    for (let at = 0; at < bytes.length; at += 8) {
      const rel = view.readInt32BE(at);
      const pos = view.readInt32BE(at + 4);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize || rel < 0) return undefined;
      index.#relOffsets.push(rel);
      index.#positions.push(pos);
      prevRel = rel;
      prevPos = pos;
    }
    return index;
  }
}
