/**
 * Kafka's control batches: the commit and abort markers a transaction coordinator writes into
 * every partition of a transaction when it ends. Byte for byte as Kafka writes them
 * (`EndTransactionMarker`, `ControlRecordType`): a RecordBatch v2 whose attributes have the
 * control bit (0x20) and the transactional bit (0x10), the transaction's producer id and epoch,
 * base sequence -1, and one record:
 *
 * ```
 * key:   int16 version (0), int16 type (0 abort, 1 commit)
 * value: int16 version (0), int32 coordinatorEpoch
 * ```
 *
 * Consumers never hand control records to applications.
 */

import { isControlBatch, RECORD_BATCH_HEADER_SIZE, RecordBatchBuilder } from './record-batch.js';

export const ABORT_MARKER = 0;
export const COMMIT_MARKER = 1;

/** Builds the marker ending a transaction of `producerId` at `epoch`. */
export function buildControlBatch(producerId: number, producerEpoch: number, commit: boolean, coordinatorEpoch: number, timestamp: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(commit ? COMMIT_MARKER : ABORT_MARKER, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  const builder = new RecordBatchBuilder(96);
  builder.append(timestamp, key, value);
  return builder.build({ producerId, producerEpoch, baseSequence: -1, transactional: true, control: true });
}

/**
 * The marker type of a control batch: `'commit'`, `'abort'`, or `undefined` for a batch that is
 * not a control batch (or a control type kafkalite does not know).
 */
export function controlBatchType(batch: Uint8Array, at = 0): 'commit' | 'abort' | undefined {
  if (!isControlBatch(batch, at)) return undefined;
  // The first record: length, attributes (1 byte), timestampDelta, offsetDelta, key length, key.
  let pos = at + RECORD_BATCH_HEADER_SIZE;
  pos = skipVarint(batch, pos); // record length
  pos += 1; // attributes
  pos = skipVarint(batch, pos); // timestamp delta
  pos = skipVarint(batch, pos); // offset delta
  pos = skipVarint(batch, pos); // key length (4)
  const type = (batch[pos + 2]! << 8) | batch[pos + 3]!;
  if (type === COMMIT_MARKER) return 'commit';
  if (type === ABORT_MARKER) return 'abort';
  return undefined;
}

function skipVarint(buf: Uint8Array, pos: number): number {
  while (buf[pos++]! & 0x80);
  return pos;
}
