import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { crc32c, crc32cImplementation } from '../../src/codec/crc32c.js';
import { kafkajsCrc32c } from './kafkajs-oracle.js';

/** Bit-at-a-time CRC-32C, straight from the definition: an independent reference. */
function referenceCrc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A deterministic pseudo-random byte source (xorshift32), so failures reproduce. */
function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('matches the known CRC-32C check values', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(ascii('a'))).toBe(0xc1d04330);
  });

  it('returns an unsigned 32-bit number', () => {
    for (let seed = 1; seed < 200; seed++) {
      const c = crc32c(randomBytes(seed % 37, seed));
      expect(Number.isInteger(c)).toBe(true);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(0xffffffff);
    }
  });

  it('checksums only bytes[start, end)', () => {
    const bytes = new Uint8Array(64).fill(0xaa);
    bytes.set(ascii('123456789'), 17);
    expect(crc32c(bytes, 17, 26)).toBe(0xe3069283);
    expect(crc32c(bytes, 5, 5)).toBe(0);
  });

  it('continues a checksum across pieces: chained parts equal the whole', () => {
    const whole = randomBytes(300, 12345);
    const expected = crc32c(whole);
    for (let cut = 0; cut <= whole.length; cut++) {
      const first = crc32c(whole, 0, cut);
      expect(crc32c(whole, cut, whole.length, first)).toBe(expected);
      // The same with the pieces in separate arrays.
      expect(crc32c(whole.slice(cut), 0, whole.length - cut, crc32c(whole.slice(0, cut)))).toBe(expected);
    }
    // Many small pieces.
    let c = 0;
    for (let i = 0; i < whole.length; i += 7) c = crc32c(whole, i, Math.min(i + 7, whole.length), c);
    expect(c).toBe(expected);
  });

  it('is right on every slicing boundary and word alignment (lengths 0..100 at offsets 0..16)', () => {
    const bytes = randomBytes(128, 987654321);
    for (let length = 0; length <= 100; length++) {
      for (let offset = 0; offset <= 16; offset++) {
        const piece = bytes.subarray(offset, offset + length);
        const expected = referenceCrc32c(piece);
        expect(crc32c(bytes, offset, offset + length), `length ${length} at ${offset}`).toBe(expected);
        expect(crc32c(piece)).toBe(expected);
        expect(kafkajsCrc32c(Buffer.from(piece))).toBe(expected);
      }
    }
  });

  it('equals KafkaJS crc32C on random bytes and random ranges', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2048 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (bytes, a, b, seed) => {
          expect(crc32c(bytes)).toBe(kafkajsCrc32c(Buffer.from(bytes)));
          const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
          const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
          expect(crc32c(bytes, start, end)).toBe(kafkajsCrc32c(Buffer.from(bytes.subarray(start, end))));
          // Chaining at an arbitrary cut inside the range.
          const cut = start + (end === start ? 0 : seed % (end - start + 1));
          expect(crc32c(bytes, cut, end, crc32c(bytes, start, cut))).toBe(crc32c(bytes, start, end));
        },
      ),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('reads a Buffer view with a byteOffset like any Uint8Array', () => {
    const backing = randomBytes(100, 7);
    const view = Buffer.from(backing.buffer, 13, 50);
    expect(crc32c(view)).toBe(referenceCrc32c(backing.subarray(13, 63)));
  });
});

describe('crc32c on large inputs (native @node-rs/crc32 when installed)', () => {
  it('uses the native CRC-32C here (the optional dependency is installed for the tests)', () => {
    expect(crc32cImplementation()).toBe('native');
  });

  it('agrees with the bit-at-a-time reference on large ranges at odd offsets, continued and not, Buffer and Uint8Array', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2048, max: 40_000 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 }), fc.integer(), (length, head, tail, seed) => {
        const all = randomBytes(head + length + tail, seed);
        const want = referenceCrc32c(all.subarray(head, head + length));
        expect(crc32c(all, head, head + length)).toBe(want);
        expect(crc32c(Buffer.from(all), head, head + length)).toBe(want);
        const cut = head + (length >> 1);
        expect(crc32c(all, cut, head + length, crc32c(all, head, cut))).toBe(want);
      }),
      { numRuns: 40 },
    );
  });

  it('KAFKALITE_CRC32C=js keeps large inputs in JavaScript, with the same results', () => {
    const script = `
      import { crc32c, crc32cImplementation } from ${JSON.stringify(new URL('../../src/codec/crc32c.ts', import.meta.url).href)};
      const b = new Uint8Array(100000).map((_, i) => (i * 7919) & 255);
      console.log(JSON.stringify([crc32cImplementation(), crc32c(b), crc32c(b, 5, 99999)]));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, KAFKALITE_CRC32C: 'js' }, encoding: 'utf8' });
    const b = new Uint8Array(100000).map((_, i) => (i * 7919) & 255);
    expect(JSON.parse(out)).toEqual(['js', crc32c(b), crc32c(b, 5, 99999)]);
  });
});
