import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  ProtocolError,
  Reader,
  Writer,
  ZERO_UUID,
  apiCodec,
  apis,
  decodeFetchResponse,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeFetchResponse,
  encodeMetadataRequest,
  encodeRequestFrame,
  encodeResponseFrame,
  isSupportedVersion,
  isUuid,
  readFrameSize,
  requestHeaderVersion,
  responseHeaderVersion,
  uuidFromBytes,
  uuidToBytes,
} from '../../src/wire/protocol/index.js';

const concat = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks);

describe('header versions', () => {
  it('follow flexibility, as ApiMessageType does', () => {
    expect(requestHeaderVersion(ApiKey.Produce, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Produce, 9)).toBe(2);
    expect(responseHeaderVersion(ApiKey.Produce, 8)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Produce, 9)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Fetch, 12)).toBe(2);
    expect(requestHeaderVersion(ApiKey.SaslHandshake, 1)).toBe(1);
    // Newer than kafkalite knows, but still flexible: the header can be read.
    expect(requestHeaderVersion(ApiKey.ApiVersions, 9)).toBe(2);
  });

  it('ApiVersions responses always use header v0; ControlledShutdown v0 requests header v0', () => {
    for (let v = 0; v <= 4; v++) expect(responseHeaderVersion(ApiKey.ApiVersions, v)).toBe(0);
    expect(requestHeaderVersion(ApiKey.ApiVersions, 3)).toBe(2);
    expect(requestHeaderVersion(7, 0)).toBe(0);
    expect(requestHeaderVersion(7, 1)).toBe(1);
    expect(requestHeaderVersion(1000, 0)).toBe(1);
    expect(responseHeaderVersion(1000, 0)).toBe(0);
  });

  it('an ApiVersions v3 response frame has no tagged-field byte after the correlation id', () => {
    const frame = concat(
      encodeResponseFrame(new Writer(), ApiKey.ApiVersions, 3, 0x01020304, { errorCode: 35, apiKeys: [], throttleTimeMs: 0 }),
    );
    // size, correlation id, then straight into the body: error code 35.
    expect([...frame.subarray(4, 10)]).toEqual([1, 2, 3, 4, 0, 35]);
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    const fetch = concat(encodeResponseFrame(new Writer(), ApiKey.Fetch, 12, 7, {}));
    expect([...fetch.subarray(4, 9)]).toEqual([0, 0, 0, 7, 0]); // header v1: an empty tagged section
  });

  it('request header v2 keeps the int16-length client id (not compact)', () => {
    const frame = concat(encodeRequestFrame(new Writer(), ApiKey.Metadata, 12, 9, 'ab', {}));
    expect([...frame.subarray(4, 17)]).toEqual([0, 3, 0, 12, 0, 0, 0, 9, 0, 2, 0x61, 0x62, 0]);
    const decoded = decodeRequestFrame(frame.subarray(4));
    expect(decoded).toMatchObject({ apiKey: 3, apiVersion: 12, correlationId: 9, clientId: 'ab' });
  });

  it('keeps unknown tagged fields of a request header v2 and writes them back', () => {
    const w = new Writer();
    const frame = concat(encodeRequestFrame(w, ApiKey.ApiVersions, 3, 1, 'c', {}));
    // Splice two unknown tags into the header's (empty) tagged section at offset 4+11.
    const at = 4 + 11;
    const spliced = Buffer.concat([frame.subarray(4, at), Buffer.from([2, 5, 1, 0xaa, 9, 2, 0xbb, 0xcc]), frame.subarray(at + 1)]);
    const { header } = decodeRequestFrame(spliced);
    expect(header.unknownTaggedFields?.map((t) => [t.tag, [...t.data]])).toEqual([
      [5, [0xaa]],
      [9, [0xbb, 0xcc]],
    ]);
  });
});

describe('api table', () => {
  it('covers the required version ranges', () => {
    const need: [number, number, number][] = [
      [ApiKey.ApiVersions, 0, 3], [ApiKey.Metadata, 0, 12], [ApiKey.Produce, 3, 11], [ApiKey.Fetch, 4, 13],
      [ApiKey.ListOffsets, 1, 8], [ApiKey.FindCoordinator, 0, 4], [ApiKey.JoinGroup, 0, 9], [ApiKey.SyncGroup, 0, 5],
      [ApiKey.Heartbeat, 0, 4], [ApiKey.LeaveGroup, 0, 5], [ApiKey.OffsetCommit, 0, 9], [ApiKey.OffsetFetch, 0, 9],
      [ApiKey.DescribeGroups, 0, 5], [ApiKey.ListGroups, 0, 4], [ApiKey.DeleteGroups, 0, 2], [ApiKey.CreateTopics, 0, 7],
      [ApiKey.DeleteTopics, 0, 6], [ApiKey.CreatePartitions, 0, 3], [ApiKey.DescribeConfigs, 0, 4], [ApiKey.AlterConfigs, 0, 2],
      [ApiKey.IncrementalAlterConfigs, 0, 1], [ApiKey.DeleteRecords, 0, 2], [ApiKey.InitProducerId, 0, 4],
      [ApiKey.SaslHandshake, 0, 1], [ApiKey.SaslAuthenticate, 0, 2], [ApiKey.AddPartitionsToTxn, 0, 3],
      [ApiKey.AddOffsetsToTxn, 0, 3], [ApiKey.EndTxn, 0, 3], [ApiKey.TxnOffsetCommit, 0, 3],
    ];
    for (const [key, lo, hi] of need) {
      const api = apiCodec(key)!;
      expect(api.apiKey).toBe(key);
      expect(api.minVersion).toBeLessThanOrEqual(lo);
      expect(api.maxVersion).toBeGreaterThanOrEqual(hi);
      expect(isSupportedVersion(key, hi)).toBe(true);
    }
    expect(Object.keys(apis)).toHaveLength(need.length);
    expect(apiCodec(1000)).toBeUndefined();
    expect(apiCodec(-1)).toBeUndefined();
    expect(isSupportedVersion(ApiKey.Produce, 12)).toBe(false);
    // Kafka 3.9's specs mark no latest version unstable (ListOffsets says so explicitly).
    expect(apis[ApiKey.ListOffsets].maxStableVersion).toBe(9);
    expect(apis[ApiKey.Produce].maxStableVersion).toBe(11);
  });
});

describe('frames', () => {
  it('readFrameSize needs 4 bytes and refuses negative or oversized frames', () => {
    expect(readFrameSize(Buffer.from([0, 0, 1]), 0)).toBe(-1);
    expect(readFrameSize(Buffer.from([9, 0, 0, 1, 0]), 1)).toBe(256);
    expect(() => readFrameSize(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0)).toThrow(ProtocolError);
    expect(() => readFrameSize(Buffer.from([0, 0, 1, 0]), 0, 100)).toThrow(ProtocolError);
  });

  it('a Fetch response hands large stored batches through by reference', () => {
    const w = new Writer();
    const stored = Array.from({ length: 5 }, (_, i) => new Uint8Array(2000 + i).fill(i));
    const small = new Uint8Array(100).fill(9);
    const chunks = encodeResponseFrame(w, ApiKey.Fetch, 11, 1, {
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, records: [...stored, small] }] }],
    });
    for (const batch of stored) expect(chunks).toContain(batch);
    expect(chunks).not.toContain(small);
    const frame = concat(chunks);
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    const records = decodeResponseFrame(frame.subarray(4), ApiKey.Fetch, 11).response.responses[0]!.partitions[0]!.records!;
    expect(Buffer.from(records).equals(Buffer.concat([...stored, small]))).toBe(true);
  });

  it('decoded records are views into the frame, not copies', () => {
    const frame = concat(
      encodeRequestFrame(new Writer(), ApiKey.Produce, 9, 1, null, {
        acks: 1,
        topicData: [{ name: 't', partitionData: [{ index: 0, records: new Uint8Array(64).fill(5) }] }],
      }),
    );
    const decoded = decodeRequestFrame(frame.subarray(4));
    if (decoded.apiKey !== ApiKey.Produce) throw new Error('wrong api');
    const records = decoded.request.topicData[0]!.partitionData[0]!.records!;
    expect(records.buffer).toBe(frame.buffer);
    expect(records.byteOffset).toBeGreaterThanOrEqual(frame.byteOffset);
    expect(decoded.clientId).toBeNull();
  });

  it('one Writer serves many frames without touching bytes it handed out', () => {
    const w = new Writer(256);
    const first = concat(encodeResponseFrame(w, ApiKey.Heartbeat, 0, 1, { errorCode: 27 }));
    const kept = encodeResponseFrame(w, ApiKey.Metadata, 1, 2, { brokers: [{ nodeId: 1, host: 'h'.repeat(50), port: 1 }] });
    const snapshot = concat(kept);
    for (let i = 0; i < 200; i++) encodeResponseFrame(w, ApiKey.Metadata, 1, i, { brokers: [{ nodeId: i, host: 'x'.repeat(i), port: i }] });
    expect(concat(kept).equals(snapshot)).toBe(true);
    expect([...first]).toEqual([0, 0, 0, 6, 0, 0, 0, 1, 0, 27]);
  });

  it('an encoding failure leaves the writer empty and usable', () => {
    const w = new Writer();
    expect(() => encodeResponseFrame(w, ApiKey.Metadata, 13, 1, {})).toThrow(ProtocolError);
    expect(w.length).toBe(0);
    // Metadata v0 has no null topics array.
    expect(() => encodeRequestFrame(w, ApiKey.Metadata, 0, 1, 'c', { topics: null })).toThrow(/null, which version 0 does not allow/);
    expect(w.length).toBe(0);
    expect(concat(encodeRequestFrame(w, ApiKey.Metadata, 1, 1, 'c', { topics: null })).readInt32BE(0)).toBe(15);
  });
});

describe('primitive encodings', () => {
  const roundTripInt64 = (value: number): { bytes: number[]; back: number } => {
    const w = new Writer();
    w.writeInt64(value);
    const bytes = w.finishBytes();
    return { bytes: [...bytes], back: new Reader(bytes).readInt64() };
  };

  it('int64: exact within ±2^53, Long.MAX/MIN survive a round trip, non-integers refused', () => {
    expect(roundTripInt64(-1)).toEqual({ bytes: [255, 255, 255, 255, 255, 255, 255, 255], back: -1 });
    expect(roundTripInt64(2 ** 53 - 1).back).toBe(2 ** 53 - 1);
    expect(roundTripInt64(-(2 ** 53 - 1)).back).toBe(-(2 ** 53 - 1));
    expect(roundTripInt64(4294967296).bytes).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    const max = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const maxNumber = new Reader(max).readInt64();
    expect(maxNumber).toBe(2 ** 63);
    expect(Buffer.from(roundTripInt64(maxNumber).bytes).equals(max)).toBe(true);
    const min = Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0]);
    expect(Buffer.from(roundTripInt64(new Reader(min).readInt64()).bytes).equals(min)).toBe(true);
    expect(() => new Writer().writeInt64(1.5)).toThrow(ProtocolError);
    expect(() => new Writer().writeInt64(Number.NaN)).toThrow(ProtocolError);
  });

  // Regression: writeInt8/writeBool once read the slab before #room moved to a new one.
  it('writes that cross a slab boundary land in the new slab', () => {
    const w = new Writer(16);
    for (let i = 0; i < 100; i++) {
      w.writeInt8(i);
      w.writeBool(i % 3 === 0);
      w.writeInt16(i - 50);
      w.writeUnsignedVarint(i * 1000);
      w.writeInt64(i * 2 ** 40);
    }
    const r = new Reader(w.finishBytes());
    for (let i = 0; i < 100; i++) {
      expect([r.readInt8(), r.readBool(), r.readInt16(), r.readUnsignedVarint(), r.readInt64()]).toEqual([i, i % 3 === 0, i - 50, i * 1000, i * 2 ** 40]);
    }
    expect(r.remaining).toBe(0);
  });

  it('unsigned varints round-trip at their boundaries', () => {
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
      const w = new Writer();
      w.writeUnsignedVarint(v);
      expect(new Reader(w.finishBytes()).readUnsignedVarint()).toBe(v);
    }
  });

  it('uuids are Kafka\'s 22-character base64url strings', () => {
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const s = uuidFromBytes(bytes, 0);
    expect(s).toBe(Buffer.from(bytes).toString('base64url'));
    expect(isUuid(s)).toBe(true);
    const back = new Uint8Array(16);
    uuidToBytes(s, back, 0);
    expect([...back]).toEqual([...bytes]);
    expect(uuidFromBytes(new Uint8Array(16), 0)).toBe(ZERO_UUID);
    for (const bad of ['', 'AAAA', 'AAAAAAAAAAAAAAAAAAAAA!', 'AAAAAAAAAAAAAAAAAAAAAB']) {
      expect(isUuid(bad)).toBe(false);
      expect(() => uuidToBytes(bad, back, 0)).toThrow(ProtocolError);
    }
  });

  it('strings: UTF-8 both ways, and int16 lengths refuse what does not fit', () => {
    const w = new Writer();
    const text = 'topic-é-日本-😀';
    w.writeString(text);
    w.writeCompactNullableString('x'.repeat(300));
    w.writeNullableString(null);
    const r = new Reader(w.finishBytes());
    expect(r.readString()).toBe(text);
    expect(r.readCompactNullableString()).toBe('x'.repeat(300));
    expect(r.readNullableString()).toBeNull();
    expect(r.remaining).toBe(0);
    expect(() => new Writer().writeString('y'.repeat(40_000))).toThrow(ProtocolError);
  });

  it('encoders write spec defaults for fields left out', () => {
    const w = new Writer();
    encodeMetadataRequest(w, 12, {});
    // topics [] (compact 1), allowAutoTopicCreation true, includeTopicAuthorizedOperations false, no tags.
    expect([...w.finishBytes()]).toEqual([1, 1, 0, 0]);
    encodeFetchResponse(w, 4, { responses: [{ topic: 't', partitions: [{ partitionIndex: 0 }] }] });
    const decoded = decodeFetchResponse(new Reader(w.finishBytes()), 4);
    expect(decoded.responses[0]!.partitions[0]).toMatchObject({ lastStableOffset: -1, abortedTransactions: [], records: null });
  });
});
