/** Bytes of one `.index` entry. */
export const OFFSET_ENTRY_SIZE = 8;

/**
 * A segment's sparse offset index, Kafka's `.index` layout: 8-byte big-endian entries, each an
 * int32 offset relative to the segment's base (the *last* offset of a batch) and the int32 byte
 * position of that batch in the `.log`. Entries strictly increase in both fields; the first
 * batch of a segment always has one (position 0), then one at least every
 * `INDEX_INTERVAL_BYTES` of log.
 *
 * The log is always trusted over its index: bytes that fail {@link OffsetIndex.load}'s checks
 * are not loaded (the caller rebuilds the index from the log), and a loaded entry is only a
 * hint — the batch it points at is checked before it is believed.
 *
 * Concurrency: in memory and synchronous; the owning segment appends new entries to the file.
 */
export class OffsetIndex {
  readonly baseOffset: number;
  #relOffsets: number[] = [];
  #positions: number[] = [];

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  get entries(): number {
    return this.#relOffsets.length;
  }

  /** Adds an entry for a batch ending at `lastOffset`, stored at `position`; returns its bytes for the file. */
  add(lastOffset: number, position: number): Buffer {
    const rel = lastOffset - this.baseOffset;
    this.#relOffsets.push(rel);
    this.#positions.push(position);
    const entry = Buffer.allocUnsafe(OFFSET_ENTRY_SIZE);
    entry.writeInt32BE(rel, 0);
    entry.writeInt32BE(position, 4);
    return entry;
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

  /** Drops entries at or past `position` (the log is cut back there, or is about to be re-read from there). */
  truncateTo(position: number): void {
    let n = this.#positions.length;
    while (n > 0 && this.#positions[n - 1]! >= position) n--;
    this.#relOffsets.length = n;
    this.#positions.length = n;
  }

  /** The file's bytes. */
  bytes(): Buffer {
    const b = Buffer.allocUnsafe(this.#relOffsets.length * OFFSET_ENTRY_SIZE);
    for (let i = 0; i < this.#relOffsets.length; i++) {
      b.writeInt32BE(this.#relOffsets[i]!, i * OFFSET_ENTRY_SIZE);
      b.writeInt32BE(this.#positions[i]!, i * OFFSET_ENTRY_SIZE + 4);
    }
    return b;
  }

  /**
   * Loads an index from its file's bytes; undefined when they cannot be right for a log of
   * `logSize` bytes (a partial entry, offsets or positions not increasing, a position past the
   * end, no entry for the first batch).
   */
  static load(baseOffset: number, bytes: Uint8Array, logSize: number): OffsetIndex | undefined {
    if (bytes.length % OFFSET_ENTRY_SIZE !== 0) return undefined;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    // Every segment indexes its first batch: a non-empty log with no entry at 0 has a bad index.
    if (logSize > 0 && (bytes.length === 0 || view.readInt32BE(4) !== 0)) return undefined;
    const index = new OffsetIndex(baseOffset);
    let prevRel = -1;
    let prevPos = -1;
    for (let at = 0; at < bytes.length; at += OFFSET_ENTRY_SIZE) {
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
