/**
 * Kafka's batch compression codecs: the records section of a RecordBatch (everything after the
 * 61-byte header) is compressed as one stream; the header stays plain, with the codec's id in
 * attribute bits 0-2, and the CRC-32C covers the stored (compressed) bytes. The stream formats are
 * those Kafka's Java client writes (`CompressionType`):
 *
 * - 1 gzip: a gzip member (RFC 1952), through `node:zlib`.
 * - 2 snappy: Java writes snappy-java's "xerial" framing — the 8-byte magic `82 'SNAPPY' 00`, two
 *   int32 versions (1, 1), then chunks of int32 length + a raw snappy block (of at most 32 KiB of
 *   input). librdkafka (kcat, confluent-kafka) writes one raw snappy block instead. Both are read;
 *   the xerial framing is written.
 * - 3 lz4: the LZ4 frame format with a correct header checksum (KIP-57; Kafka before 0.10 got it
 *   wrong), independent blocks.
 * - 4 zstd: one zstd frame.
 *
 * gzip is built in; the other three use optional packages (peer dependencies), loaded the first
 * time a batch needs them: `snappy` and `lz4-napi` (napi-rs, prebuilt binaries shipped in npm
 * packages), and for zstd `node:zlib` where Node has it (22.15 and later), else `fzstd` (pure JS)
 * to decompress and `@hpcc-js/wasm-zstd` (libzstd in wasm) to compress. A missing package is
 * `UNSUPPORTED` naming it. Decompression is synchronous, so every reader decodes in place; the
 * first zstd compression on an older Node may wait for the wasm to load.
 *
 * Concurrency: stateless apart from the loaded modules, cached once per process.
 */
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import { KafkaliteError } from '../errors.js';

/** A producer's `compression`: Kafka's `compression.type` values. */
export type CompressionCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Codec names by their id in a batch's attributes (bits 0-2). */
export const COMPRESSION_CODECS: readonly CompressionCodec[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export const COMPRESSION_MASK = 0x07;

/** The id of a codec in a batch's attributes. */
export function codecId(codec: CompressionCodec): number {
  return COMPRESSION_CODECS.indexOf(codec);
}

/** The most one batch may decompress to, as a guard against a small batch that expands without bound. */
export const MAX_DECOMPRESSED_BYTES = 256 << 20;

/** A codec's stream turned back into the records' bytes. Throws on a damaged stream. */
export function decompress(id: number, data: Uint8Array): Buffer {
  switch (id) {
    case 1:
      return zlib.gunzipSync(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
    case 2:
      return snappyDecompress(data);
    case 3:
      return Buffer.from(lz4().decompressFrameSync(asBuffer(data)));
    case 4:
      return zstdDecompress(data);
    default:
      throw new KafkaliteError('UNSUPPORTED', `compression codec ${id} is not one of Kafka's (1 gzip, 2 snappy, 3 lz4, 4 zstd)`);
  }
}

/** The records' bytes compressed with `codec`; a promise only while a codec is still loading. */
export function compress(codec: CompressionCodec, data: Uint8Array): Buffer | Promise<Buffer> {
  switch (codec) {
    case 'gzip':
      return zlib.gzipSync(data);
    case 'snappy':
      return snappyXerial(data);
    case 'lz4':
      return Buffer.from(lz4().compressFrameSync(asBuffer(data)));
    case 'zstd':
      return zstdCompress(data);
    default:
      throw new KafkaliteError('UNSUPPORTED', `compression ${JSON.stringify(codec)} is not one of 'none', 'gzip', 'snappy', 'lz4', 'zstd'`);
  }
}

/**
 * Undefined once `compress(codec, …)` returns a Buffer (always, but for zstd's wasm compressor on
 * Node before 22.15 until it has loaded); else a promise that resolves once it does. `UNSUPPORTED`
 * naming a missing package. The log cleaner waits for this before a pass, so that recompressing a
 * batch it thinned never waits halfway through one.
 */
export function compressorReady(codec: CompressionCodec): Promise<void> | undefined {
  requireCodec(codec);
  if (codec !== 'zstd' || nodeZstd.zstdCompressSync !== undefined || wasmZstd !== undefined) return undefined;
  return loadWasmZstd().then(() => undefined);
}

/**
 * Loads what writing (and reading back) `codec` needs, or throws `UNSUPPORTED` naming the missing
 * package: a producer checks this before its call does anything (creates a topic, say).
 */
export function requireCodec(codec: CompressionCodec): void {
  switch (codec) {
    case 'snappy':
      snappy();
      return;
    case 'lz4':
      lz4();
      return;
    case 'zstd':
      if (nodeZstd.zstdCompressSync !== undefined) return;
      load('@hpcc-js/wasm-zstd', 'zstd');
      load('fzstd', 'zstd');
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading the optional packages

const modules = new Map<string, unknown>();

/** Loads an optional package the first time it is needed; UNSUPPORTED, naming it, when it is not installed. */
function load<T>(name: string, codec: string): T {
  let mod = modules.get(name);
  if (mod === undefined) {
    try {
      // Resolved from this file, in the CommonJS build (`__filename`) and the ESM one alike (a
      // bundler's `require` shim in ESM cannot load packages).
      mod = createRequire(typeof __filename === 'string' ? __filename : import.meta.url)(name) as unknown;
    } catch (error) {
      throw new KafkaliteError('UNSUPPORTED', `${codec} compression needs the package ${JSON.stringify(name)}: npm install ${name}`, { cause: error });
    }
    modules.set(name, mod);
  }
  return mod as T;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
}

// ---------------------------------------------------------------------------------------------
// snappy

interface SnappyModule {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Buffer, options?: { asBuffer: true }): Buffer;
}

const snappy = (): SnappyModule => load<SnappyModule>('snappy', 'snappy');

/** snappy-java's stream header: magic, then its version and the oldest version that reads it. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;
/** snappy-java's default block: input is cut into blocks of this many bytes. */
const XERIAL_BLOCK = 32 * 1024;

function snappyXerial(data: Uint8Array): Buffer {
  const s = snappy();
  const input = asBuffer(data);
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  for (let at = 0; at < input.length || at === 0; at += XERIAL_BLOCK) {
    const block = s.compressSync(input.subarray(at, at + XERIAL_BLOCK));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
    if (input.length === 0) break;
  }
  return Buffer.concat(parts);
}

function snappyDecompress(data: Uint8Array): Buffer {
  const s = snappy();
  const input = asBuffer(data);
  if (input.length < XERIAL_HEADER || !input.subarray(0, 8).equals(XERIAL_MAGIC)) return checkedSnappyBlock(s, input);
  const parts: Buffer[] = [];
  let total = 0;
  for (let at = XERIAL_HEADER; at < input.length; ) {
    if (at + 4 > input.length) throw new RangeError(`a snappy (xerial) chunk length is cut off at byte ${at}`);
    const length = input.readInt32BE(at);
    at += 4;
    if (length < 0 || at + length > input.length) throw new RangeError(`a snappy (xerial) chunk of ${length} bytes runs past the stream`);
    const block = checkedSnappyBlock(s, input.subarray(at, at + length));
    total += block.length;
    if (total > MAX_DECOMPRESSED_BYTES) throw new RangeError(`the snappy stream expands past ${MAX_DECOMPRESSED_BYTES} bytes`);
    parts.push(block);
    at += length;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** A raw snappy block starts with its uncompressed length (a varint): checked before inflating it. */
function checkedSnappyBlock(s: SnappyModule, block: Buffer): Buffer {
  let length = 0;
  for (let i = 0, shift = 1; i < 5 && i < block.length; i++, shift *= 128) {
    length += (block[i]! & 0x7f) * shift;
    if ((block[i]! & 0x80) === 0) break;
  }
  if (length > MAX_DECOMPRESSED_BYTES) throw new RangeError(`a snappy block claims ${length} bytes, over ${MAX_DECOMPRESSED_BYTES}`);
  return s.uncompressSync(block, { asBuffer: true });
}

// ---------------------------------------------------------------------------------------------
// lz4

interface Lz4Module {
  compressFrameSync(data: Buffer): Buffer;
  decompressFrameSync(data: Buffer): Buffer;
}

const lz4 = (): Lz4Module => load<Lz4Module>('lz4-napi', 'lz4');

// ---------------------------------------------------------------------------------------------
// zstd

interface NodeZstd {
  zstdCompressSync?: (data: Uint8Array) => Buffer;
  zstdDecompressSync?: (data: Uint8Array, options?: { maxOutputLength?: number }) => Buffer;
}

interface WasmZstd {
  compress(data: Uint8Array): Uint8Array;
}

const nodeZstd = zlib as unknown as NodeZstd;
let wasmZstd: WasmZstd | undefined;
let wasmLoading: Promise<WasmZstd> | undefined;

function zstdDecompress(data: Uint8Array): Buffer {
  if (nodeZstd.zstdDecompressSync !== undefined) return nodeZstd.zstdDecompressSync(data, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
  const fzstd = load<{ decompress(data: Uint8Array): Uint8Array }>('fzstd', 'zstd');
  const out = fzstd.decompress(data);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

function zstdCompress(data: Uint8Array): Buffer | Promise<Buffer> {
  if (nodeZstd.zstdCompressSync !== undefined) return nodeZstd.zstdCompressSync(data);
  if (wasmZstd !== undefined) return Buffer.from(wasmZstd.compress(data));
  return loadWasmZstd().then((z) => Buffer.from(z.compress(data)));
}

function loadWasmZstd(): Promise<WasmZstd> {
  wasmLoading ??= load<{ Zstd: { load(): Promise<WasmZstd> } }>('@hpcc-js/wasm-zstd', 'zstd')
    .Zstd.load()
    .then((z) => (wasmZstd = z));
  return wasmLoading;
}
