/**
 * `ceiling`: no kafkalite at all — roughly the most a single-partition, in-process log could do in
 * plain JavaScript. A "producer" loop appends record objects
 * `{ offset, key: null, value, headers: {}, timestamp }` one by one to an array; a "consumer"
 * reads them back in slices of 1000 and does the same per-record work as every other row
 * (`Tally`: value length, offset check, count). Both run synchronously in one loop: after every
 * 1000 appends the consumer reads what is new, so records are read while still warm, as
 * kafkalite's consumers read them. The timestamp is taken once per 1000 appends (as kafkalite's
 * producer takes one per `send` call): `Date.now()` per record would cost ~60 ns more per record.
 *
 * Baseline row: every record refers to the one shared value buffer — the strictest ceiling, the
 * bare cost of the record objects and the array.
 * Second row: every record gets its own copy of the value (`Buffer.from`), as records in a real
 * log own their bytes (kafkalite copies on send into the batch, and again on fetch).
 */

import { Tally, VALUE_SIZE, type Case, type Scenario } from '../lib/harness.js';

interface LogRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, Buffer>;
  timestamp: number;
}

const CHUNK = 1000;
const source = Buffer.alloc(VALUE_SIZE, 0x61);

function ceilingCase(name: string, messages: number, copy: boolean, baseline: boolean): Case {
  return {
    name,
    messages,
    baseline,
    system: 'ceiling',
    durability: 'memory',
    prepare() {
      const tally = new Tally();
      let log: LogRecord[] = [];
      return {
        run() {
          let read = 0;
          for (let offset = 0; offset < messages; ) {
            const end = Math.min(messages, offset + CHUNK);
            // producer: one append per record
            const timestamp = Date.now();
            for (; offset < end; offset++) {
              log.push({ offset, key: null, value: copy ? Buffer.from(source) : source, headers: {}, timestamp });
            }
            // consumer: batches of up to 1000
            while (read < log.length) {
              const batch = log.slice(read, read + CHUNK);
              for (let i = 0; i < batch.length; i++) tally.add(batch[i]!);
              read += batch.length;
            }
          }
        },
        finish() {
          tally.verify(messages, name);
          log = [];
        },
      };
    },
  };
}

export const ceiling: Scenario = {
  name: 'ceiling',
  description: 'plain JS array of records: append one by one, read back in slices of 1000',
  cases: ({ messages }) => [
    ceilingCase('array push, shared value + slice(1000) [baseline]', messages, false, true),
    ceilingCase('array push, value copied per record + slice(1000)', messages, true, false),
  ],
};
