import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  ProtocolError,
  Reader,
  Writer,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  readRequestFrame,
} from '../../src/wire/protocol/index.js';

/**
 * Malformed input must end in a ProtocolError — never another exception from deep inside, never a
 * hang, never an allocation sized by a length field the frame cannot back.
 */

const w = new Writer();
const body = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks).subarray(4);
const batch = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

/** A few real request frames (without the size prefix), flexible and not. */
const requestFrames: [string, Buffer][] = [
  ['Produce v3', body(encodeRequestFrame(w, ApiKey.Produce, 3, 1, 'c', { acks: 1, timeoutMs: 100, topicData: [{ name: 't', partitionData: [{ index: 0, records: batch(70, 1) }] }] }))],
  ['Produce v9', body(encodeRequestFrame(w, ApiKey.Produce, 9, 2, 'c', { transactionalId: 'tx', acks: -1, topicData: [{ name: 't', partitionData: [{ index: 1, records: [batch(30, 2), batch(20, 3)] }, { index: 2, records: null }] }] }))],
  ['Fetch v4', body(encodeRequestFrame(w, ApiKey.Fetch, 4, 3, null, { maxWaitMs: 500, topics: [{ topic: 'a', partitions: [{ partition: 0, fetchOffset: 5 }] }] }))],
  ['Fetch v15', body(encodeRequestFrame(w, ApiKey.Fetch, 15, 4, 'c', { clusterId: 'cl', replicaState: { replicaId: 3, replicaEpoch: 9 }, topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partition: 0, fetchOffset: 5 }] }], forgottenTopicsData: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAg', partitions: [1] }], rackId: 'r' }))],
  ['Metadata v12', body(encodeRequestFrame(w, ApiKey.Metadata, 12, 5, 'c', { topics: [{ name: 'x' }, { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }] }))],
  ['ApiVersions v3', body(encodeRequestFrame(w, ApiKey.ApiVersions, 3, 6, 'c', { clientSoftwareName: 'kafkalite', clientSoftwareVersion: '0.1.0' }))],
  ['JoinGroup v9', body(encodeRequestFrame(w, ApiKey.JoinGroup, 9, 7, 'c', { groupId: 'g', sessionTimeoutMs: 1, memberId: 'm', protocolType: 'consumer', protocols: [{ name: 'range', metadata: batch(12, 4) }], reason: 'why' }))],
  ['OffsetCommit v2', body(encodeRequestFrame(w, ApiKey.OffsetCommit, 2, 8, 'c', { groupId: 'g', topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10, committedMetadata: null }] }] }))],
];

/** Each truncation of a frame fails with a ProtocolError, and only with one. */
function expectProtocolError(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected a ProtocolError').toBeInstanceOf(ProtocolError);
}

/** Decodes and returns normally or throws a ProtocolError; anything else fails the test. */
function decodeOrProtocolError(frame: Uint8Array): boolean {
  try {
    decodeRequestFrame(frame);
    return true;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return false;
  }
}

describe('malformed request frames', () => {
  it.each(requestFrames)('%s: the whole frame decodes, and every truncation is a ProtocolError', (_name, frame) => {
    expect(() => decodeRequestFrame(frame)).not.toThrow();
    for (let cut = 0; cut < frame.length; cut++) expectProtocolError(() => decodeRequestFrame(frame.subarray(0, cut)));
  });

  it('truncated response frames too', () => {
    const fetch = body(
      encodeResponseFrame(w, ApiKey.Fetch, 16, 9, {
        responses: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, highWatermark: 3, currentLeader: { leaderId: 1, leaderEpoch: 2 }, records: batch(40, 7) }] }],
        nodeEndpoints: [{ nodeId: 1, host: 'h', port: 1, rack: 'r' }],
      }),
    );
    expect(decodeResponseFrame(fetch, ApiKey.Fetch, 16).correlationId).toBe(9);
    for (let cut = 0; cut < fetch.length; cut++) {
      expectProtocolError(() => decodeResponseFrame(fetch.subarray(0, cut), ApiKey.Fetch, 16));
    }
  });

  // Header v1 then a Metadata v0 body whose topics array claims 2^31-1 elements.
  it('an array length beyond the remaining bytes is refused before anything is allocated', () => {
    const frame = Buffer.from([0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, 0x61]);
    expectProtocolError(() => decodeRequestFrame(frame));
    // Compact form: Metadata v9 (header v2) with a 5-byte varint length of 2^32-2.
    const compact = Buffer.from([0, 3, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    expectProtocolError(() => decodeRequestFrame(compact));
  });

  it('negative lengths of non-nullable strings, bytes and arrays are refused', () => {
    // FindCoordinator v0: key string with length -2.
    expectProtocolError(() => decodeRequestFrame(Buffer.from([0, 10, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xfe])));
    // SaslAuthenticate v0: authBytes with length -1.
    expectProtocolError(() => decodeRequestFrame(Buffer.from([0, 36, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff])));
    // Metadata v0 does not allow a null topics array (v1+ does).
    expectProtocolError(() => decodeRequestFrame(Buffer.from([0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff])));
    const v1 = decodeRequestFrame(Buffer.from([0, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff]));
    expect(v1.apiKey === ApiKey.Metadata && v1.request.topics).toBeNull();
  });

  it('an over-long varint and a tagged field that overruns its size are refused', () => {
    const r = new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expectProtocolError(() => r.readUnsignedVarint());
    expectProtocolError(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])).readUnsignedVarint());
    expect(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])).readUnsignedVarint()).toBe(2 ** 32 - 1);
    // ApiVersions v3 response (header v0), flexible body: error 0, no apiKeys, throttle 0, then
    // tag 1 (FinalizedFeaturesEpoch, an int64) declared 2 bytes long.
    const res = Buffer.from([0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 2, 0, 0]);
    expectProtocolError(() => decodeResponseFrame(res, ApiKey.ApiVersions, 3));
  });

  it('unknown api keys and versions are ProtocolErrors, but the header still reads', () => {
    const frame = Buffer.from([0, 99, 0, 1, 0, 0, 0, 5, 0, 1, 0x61]);
    expect(readRequestFrame(frame).header.correlationId).toBe(5);
    expectProtocolError(() => decodeRequestFrame(frame));
    const tooNew = Buffer.from([0, 18, 0, 99, 0, 0, 0, 6, 0, 1, 0x61, 0]);
    expect(readRequestFrame(tooNew).header).toMatchObject({ requestApiKey: 18, requestApiVersion: 99, correlationId: 6, clientId: 'a' });
    expectProtocolError(() => decodeRequestFrame(tooNew));
    expectProtocolError(() => readRequestFrame(Buffer.from([0, 18])));
  });

  it('random mutations of real frames decode or fail with a ProtocolError, nothing else', () => {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    let decoded = 0;
    for (let i = 0; i < 20_000; i++) {
      const [, original] = requestFrames[next() % requestFrames.length]!;
      const frame = Buffer.from(original);
      const edits = 1 + (next() % 4);
      for (let e = 0; e < edits; e++) {
        const at = next() % frame.length;
        // Favour the values that make lengths and varints interesting.
        const pick = next() % 4;
        frame[at] = pick === 0 ? 0xff : pick === 1 ? 0x80 : pick === 2 ? 0 : next() & 0xff;
      }
      // Keep the api key and version valid half of the time, so bodies get decoded.
      if (i % 2 === 0) frame.set(original.subarray(0, 4), 0);
      if (decodeOrProtocolError(frame.subarray(0, next() % 8 === 0 ? next() % frame.length : frame.length))) decoded++;
    }
    // Both outcomes occur often, so the mutations reach into the bodies.
    expect(decoded).toBeGreaterThan(2_000);
    expect(decoded).toBeLessThan(18_000);
    for (let i = 0; i < 5_000; i++) {
      const garbage = Buffer.alloc(next() % 64);
      for (let j = 0; j < garbage.length; j++) garbage[j] = next() & 0xff;
      if (garbage.length >= 2) garbage.writeInt16BE([0, 1, 3, 11, 18][i % 5]!, 0);
      decodeOrProtocolError(garbage);
    }
  });
});
