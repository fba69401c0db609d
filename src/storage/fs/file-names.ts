/**
 * Kafka's on-disk names: a partition's folder is `<topic>-<partition>`, and each segment's files
 * are named by the segment's base offset, zero-padded to 20 digits.
 */

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const TXN_INDEX_SUFFIX = '.txnindex';
export const DELETED_SUFFIX = '.deleted';
/** A cleaned segment being written (`<base>.log.cleaned`), then swapped in (`<base>.log.swap`): see segment-cleaner. */
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

/** `00000000000000000042` for 42. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, '0');
}

/** The base offset a segment file name stands for, or undefined if it is not one. */
export function parseSegmentName(name: string, suffix = LOG_SUFFIX): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const stem = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(stem)) return undefined;
  const offset = Number(stem);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

/** `orders-3`. Topic names never contain a path separator (Kafka's name rules). */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Splits `orders-3` back into its topic and partition, or undefined. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const cut = name.lastIndexOf('-');
  if (cut <= 0) return undefined;
  const partition = Number(name.slice(cut + 1));
  if (!Number.isInteger(partition) || partition < 0 || String(partition) !== name.slice(cut + 1)) return undefined;
  return { topic: name.slice(0, cut), partition };
}
