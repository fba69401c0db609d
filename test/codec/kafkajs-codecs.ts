/**
 * KafkaJS' compression codecs, registered in KafkaJS' own `CompressionCodecs` the way its users
 * do: gzip is built in; snappy is `kafkajs-snappy` (snappyjs, xerial framing), lz4 is
 * `kafkajs-lz4` (node-lz4's pure-JS frame codec). No KafkaJS zstd codec installs on Node 20
 * without compiling (they wrap native zstd bindings), so zstd is registered here in the same
 * shape around `@hpcc-js/wasm-zstd` (libzstd compiled to wasm) both ways — kafkalite decompresses
 * zstd with `fzstd` instead, so its reads are still checked by another implementation.
 * Test-only.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

let registered: Promise<void> | undefined;

/** Registers snappy, lz4 and zstd in KafkaJS (once per process). */
export function registerKafkaJsCodecs(): Promise<void> {
  registered ??= (async () => {
    const { CompressionCodecs, CompressionTypes } = require('kafkajs') as {
      CompressionCodecs: Record<number, () => KafkaJsCodec>;
      CompressionTypes: Record<string, number>;
    };
    CompressionCodecs[CompressionTypes.Snappy!] = require('kafkajs-snappy') as () => KafkaJsCodec;
    const LZ4Codec = require('kafkajs-lz4') as new () => { codec: () => KafkaJsCodec };
    CompressionCodecs[CompressionTypes.LZ4!] = new LZ4Codec().codec;
    const { Zstd } = require('@hpcc-js/wasm-zstd') as {
      Zstd: { load(): Promise<{ compress(d: Uint8Array): Uint8Array; decompress(d: Uint8Array): Uint8Array }> };
    };
    const zstd = await Zstd.load();
    CompressionCodecs[CompressionTypes.ZSTD!] = () => ({
      compress: async (encoder) => Buffer.from(zstd.compress(encoder.buffer)),
      decompress: async (buffer) => Buffer.from(zstd.decompress(buffer)),
    });
  })();
  return registered;
}

/** KafkaJS' CompressionTypes ids, by kafkalite's codec names. */
export const KAFKAJS_CODEC_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
