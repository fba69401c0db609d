/**
 * `large-values`: FileStorage with 16 KiB values, 16 per send (256 KiB batches), fsync
 * `'interval'`, 4 sends in flight — beside the disk's ceiling in the same run: raw sequential
 * `writeSync` of 1 MiB chunks holding the same number of bytes, then one `fsync` (the baseline).
 * With values this large kafkalite is bound by CPU, not the disk: most of it is the CRC-32C of
 * each batch. The two kafkalite rows differ only in that checksum: the native one
 * (`@node-rs/crc32`, the optional dependency) and JavaScript's (`KAFKALITE_CRC32C=js`, set in
 * the row's own process before anything is checksummed).
 */

import { rmSync } from 'node:fs';
import { Broker, FileStorage, RecordBatchBuilder, type Message } from 'kafkalite';
import type { Case, Scenario } from '../lib/harness.js';
import { freshBenchDir, rawDiskCase } from '../lib/raw-disk.js';

const TOPIC = 'large';
const VALUE_BYTES = 16 * 1024;
const PER_SEND = 16;
const IN_FLIGHT = 4;
/** 16 KiB of JSON-ish text, the same for every message. */
const VALUE = Buffer.from('{"k":"'.padEnd(VALUE_BYTES - 2, 'abcdefghij0123456789') + '"}');

/** What kafkalite writes per message: a batch of 16 such values, divided by 16. */
function bytesPerRecord(): number {
  const builder = new RecordBatchBuilder();
  for (let i = 0; i < PER_SEND; i++) builder.append(0, null, VALUE);
  return builder.build().length / PER_SEND;
}

function rawCase(messages: number): Case {
  return rawDiskCase('raw writeSync 1 MiB chunks + 1 fsync, the same bytes [disk baseline]', messages, () => messages * bytesPerRecord());
}

function kafkaliteCase(crc: 'native' | 'js', messages: number): Case {
  return {
    name: `FileStorage fsync 'interval', 16 KiB values ×${PER_SEND} per send, ${IN_FLIGHT} in flight, CRC-32C ${crc === 'native' ? 'native (@node-rs/crc32)' : 'in JavaScript'}`,
    id: `kafkalite-large-values-${crc}`,
    messages,
    system: 'kafkalite',
    durability: 'process crash (fsync every 1 s)',
    async prepare() {
      if (crc === 'js') process.env['KAFKALITE_CRC32C'] = 'js';
      const dir = freshBenchDir();
      const broker = await Broker.open({ storage: new FileStorage({ dir, fsync: 'interval' }) });
      await broker.createTopic(TOPIC, { partitions: 1, retentionMs: -1, maxMessageBytes: 1 << 20 });
      const producer = broker.producer({ batchSize: 1 << 20 });
      const batch: Message[] = Array.from({ length: PER_SEND }, () => ({ value: VALUE }));
      return {
        async run() {
          const window: Promise<unknown>[] = [];
          for (let sent = 0; sent < messages; sent += PER_SEND) {
            window.push(producer.send({ topic: TOPIC, messages: batch }));
            if (window.length >= IN_FLIGHT) await window.shift();
          }
          await Promise.all(window);
          await broker.close();
        },
        finish() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export const largeValues: Scenario = {
  name: 'large-values',
  description: "on disk: FileStorage with 16 KiB values (fsync 'interval') beside raw writes of the same bytes; CRC-32C native vs JavaScript",
  cases({ messages }) {
    const n = Math.min(messages, 64_000); // 1 GiB of values per run at most
    return [rawCase(n), kafkaliteCase('native', n), kafkaliteCase('js', n)];
  },
};
