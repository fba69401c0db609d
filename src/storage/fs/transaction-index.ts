import type { AbortedTransaction, AbortedTransactionEntry } from '../storage.js';

/** Bytes of one `.txnindex` entry. */
export const TXN_ENTRY_SIZE = 34;
/** The entry version Kafka writes (`AbortedTxn.CURRENT_VERSION`). */
const TXN_ENTRY_VERSION = 0;

/**
 * A segment's aborted-transaction index, Kafka's `.txnindex` layout (`TransactionIndex`,
 * `AbortedTxn`): one 34-byte big-endian entry per abort marker in the segment, in marker order —
 *
 * ```
 * int16 version (0)
 * int64 producerId
 * int64 firstOffset       the producer's first offset in the transaction (the marker's own
 *                         offset when it had no records here)
 * int64 lastOffset        the abort marker's offset (inside this segment)
 * int64 lastStableOffset  once the marker was appended: the first offset of the oldest
 *                         transaction still open in the partition, else lastOffset + 1
 * ```
 *
 * The entry lives in the segment holding the marker, so a search for a fetch from `from` starts
 * at the segment holding `from` and goes on until an entry's `lastStableOffset` reaches the
 * fetch's end (no transaction aborted later has records below it), as Kafka's
 * `collectAbortedTxns`.
 *
 * The log is trusted over the index: bytes that fail {@link TransactionIndex.load}'s checks are
 * not loaded, and the caller rebuilds the index from the log's batches. The entries are kept in
 * memory (a few per aborted transaction, as the producer state held them before).
 *
 * Concurrency: in memory and synchronous; the owning segment appends new entries to the file.
 */
export class TransactionIndex {
  readonly baseOffset: number;
  #entries: AbortedTransactionEntry[] = [];

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  get entries(): readonly AbortedTransactionEntry[] {
    return this.#entries;
  }

  /** The marker offset of the last entry, or -1. */
  get lastOffset(): number {
    return this.#entries.length === 0 ? -1 : this.#entries[this.#entries.length - 1]!.lastOffset;
  }

  /** Adds an entry (markers come in offset order); returns its bytes for the file. */
  add(entry: AbortedTransactionEntry): Buffer {
    this.#entries.push(entry);
    return encodeEntry(entry);
  }

  /** Drops entries whose marker is at or past `offset` (the log was cut back there); whether any went. */
  truncateTo(offset: number): boolean {
    let n = this.#entries.length;
    while (n > 0 && this.#entries[n - 1]!.lastOffset >= offset) n--;
    const dropped = n < this.#entries.length;
    this.#entries.length = n;
    return dropped;
  }

  /**
   * Kafka's `collectAbortedTxns`: adds to `out` the entries whose marker is at or after `from`
   * and whose first offset is below `to`; true once an entry shows no later one can qualify.
   */
  collect(from: number, to: number, out: AbortedTransaction[]): boolean {
    for (const e of this.#entries) {
      if (e.lastOffset >= from && e.firstOffset < to) out.push({ producerId: e.producerId, firstOffset: e.firstOffset, lastOffset: e.lastOffset });
      if (e.lastStableOffset >= to) return true;
    }
    return false;
  }

  /** The file's bytes. */
  bytes(): Buffer {
    return Buffer.concat(this.#entries.map(encodeEntry));
  }

  /**
   * Loads an index from its file's bytes; undefined when they cannot be right for a segment
   * whose batches end before `nextOffset`: a partial entry, an unknown version, a marker outside
   * the segment, markers out of order, a first offset after its marker, or a last stable offset
   * at or below the first offset.
   */
  static load(baseOffset: number, bytes: Uint8Array, nextOffset: number): TransactionIndex | undefined {
    if (bytes.length % TXN_ENTRY_SIZE !== 0) return undefined;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const index = new TransactionIndex(baseOffset);
    let prev = baseOffset - 1;
    for (let at = 0; at < bytes.length; at += TXN_ENTRY_SIZE) {
      if (view.readInt16BE(at) !== TXN_ENTRY_VERSION) return undefined;
      const producerId = Number(view.readBigInt64BE(at + 2));
      const firstOffset = Number(view.readBigInt64BE(at + 10));
      const lastOffset = Number(view.readBigInt64BE(at + 18));
      const lastStableOffset = Number(view.readBigInt64BE(at + 26));
      if (producerId < 0 || lastOffset <= prev || lastOffset >= nextOffset || firstOffset < 0 || firstOffset > lastOffset || lastStableOffset <= firstOffset) return undefined;
      index.#entries.push({ producerId, firstOffset, lastOffset, lastStableOffset });
      prev = lastOffset;
    }
    return index;
  }

  /** An index holding `entries` (rebuilt from the log, or carried over by a cleaning swap). */
  static of(baseOffset: number, entries: AbortedTransactionEntry[]): TransactionIndex {
    const index = new TransactionIndex(baseOffset);
    index.#entries = entries;
    return index;
  }
}

function encodeEntry(e: AbortedTransactionEntry): Buffer {
  const b = Buffer.allocUnsafe(TXN_ENTRY_SIZE);
  b.writeInt16BE(TXN_ENTRY_VERSION, 0);
  b.writeBigInt64BE(BigInt(e.producerId), 2);
  b.writeBigInt64BE(BigInt(e.firstOffset), 10);
  b.writeBigInt64BE(BigInt(e.lastOffset), 18);
  b.writeBigInt64BE(BigInt(e.lastStableOffset), 26);
  return b;
}
