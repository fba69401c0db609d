import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  ProtocolError,
  Writer,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  readFrameSize,
} from '../../src/wire/protocol/index.js';

/**
 * The server-side usage shown in src/wire/protocol/README.md, run so that it cannot rot: split a
 * byte stream into frames, decode each request, answer with a response frame.
 */
describe('wire protocol usage', () => {
  it('decodes a request frame and encodes the response frame', () => {
    const sent: Uint8Array[] = [];
    const appended: [string, number, number][] = [];

    // --- the example -------------------------------------------------------------------------
    const w = new Writer(); // reusable: encoders are synchronous and hand the bytes over on finish
    function onData(buf: Uint8Array): number {
      let at = 0;
      for (let size = readFrameSize(buf, at); size >= 0 && buf.length - at - 4 >= size; size = readFrameSize(buf, at)) {
        const req = decodeRequestFrame(buf.subarray(at + 4, at + 4 + size)); // ProtocolError: close the socket
        at += 4 + size;
        if (req.apiKey === ApiKey.Produce) {
          const responses = req.request.topicData.map((t) => ({
            name: t.name,
            partitionResponses: t.partitionData.map((p) => {
              appended.push([t.name, p.index, p.records?.length ?? 0]); // records: a view into buf
              return { index: p.index, errorCode: 0, baseOffset: 0 };
            }),
          }));
          sent.push(...encodeResponseFrame(w, ApiKey.Produce, req.apiVersion, req.correlationId, { responses }));
        }
      }
      return at; // bytes consumed; keep the rest for the next chunk
    }
    // -----------------------------------------------------------------------------------------

    const client = new Writer();
    const request = Buffer.concat(
      encodeRequestFrame(client, ApiKey.Produce, 9, 77, 'app', {
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: 'orders', partitionData: [{ index: 0, records: new Uint8Array(100) }] }],
      }),
    );
    expect(onData(request.subarray(0, 10))).toBe(0); // not a whole frame yet
    expect(onData(request)).toBe(request.length);
    expect(appended).toEqual([['orders', 0, 100]]);
    const reply = Buffer.concat(sent);
    const { correlationId, response } = decodeResponseFrame(reply.subarray(4), ApiKey.Produce, 9);
    expect(correlationId).toBe(77);
    expect(response.responses[0]!.partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0, baseOffset: 0 });
    expect(() => onData(Buffer.from([0, 0, 0, 2, 0, 0]))).toThrow(ProtocolError);
  });
});
