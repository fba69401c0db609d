import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reader } from '../../src/wire/protocol/reader.js';
import { Writer } from '../../src/wire/protocol/writer.js';
import { codecOf } from './codecs.js';
import { canon, expectedStruct, messageArb, messages, resolve, versionsOf } from './spec-values.js';

/**
 * Every message of every API at every version, with generated values: encode → decode gives the
 * value restricted to the version (absent or omitted fields as their defaults), the decoder uses
 * every byte, and decode → encode gives the same bytes.
 */
describe('generated codecs round-trip', () => {
  // One writer for everything, as a server would use it, with small slabs so that messages
  // cross slab boundaries often.
  const w = new Writer(256);

  for (const spec of messages) {
    it(`${spec.name} v${spec.validVersions[0]}-${spec.validVersions[1]}`, () => {
      const codec = codecOf(spec);
      const top = resolve(spec).top;
      for (const version of versionsOf(spec)) {
        fc.assert(
          fc.property(messageArb(spec, version), (value) => {
            codec.encode(w, version, value);
            const bytes = w.finishBytes().slice();
            const r = new Reader(bytes);
            const decoded = codec.decode(r, version);
            expect(r.remaining).toBe(0);
            expect(canon(decoded)).toEqual(canon(expectedStruct(spec, top, value, version)));
            codec.encode(w, version, decoded);
            expect(Buffer.from(w.finishBytes()).equals(Buffer.from(bytes))).toBe(true);
          }),
          { numRuns: 15 },
        );
      }
    });
  }
});
