/**
 * Retention bounds memory: millions of messages through an in-memory broker whose topic keeps
 * `retentionBytes` leave the heap where it was, and a consumer that fell behind retention
 * follows `autoOffsetReset`. (`KAFKALITE_MEMORY_MESSAGES` runs more, e.g. 10000000 in a soak.)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Broker } from 'kafkalite';

const MESSAGES = Number(process.env.KAFKALITE_MEMORY_MESSAGES ?? 2_000_000);
const RETENTION_BYTES = 4 << 20;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('bounded memory', () => {
  it(`keeps the heap bounded through ${MESSAGES.toLocaleString('en-US')} messages with retentionBytes`, async () => {
    const broker = await Broker.open();
    const topic = await broker.createTopic('bounded', { retentionBytes: RETENTION_BYTES });
    const producer = broker.producer();
    const behind = broker.consumer({ autoOffsetReset: 'earliest' });
    await behind.assign([{ topic: 'bounded', partition: 0 }]);
    behind.seek({ topic: 'bounded', partition: 0, offset: 0 });
    const strict = broker.consumer({ autoOffsetReset: 'none' });
    await strict.assign([{ topic: 'bounded', partition: 0 }]);
    strict.seek({ topic: 'bounded', partition: 0, offset: 0 });

    const value = Buffer.alloc(100, 0x61);
    const messages = Array.from({ length: 1000 }, () => ({ value }));
    const before = heapAfterGc();
    let peak = 0;
    for (let sent = 0; sent < MESSAGES; sent += 1000) {
      await producer.send({ topic: 'bounded', messages });
      if (sent % 200_000 === 0) peak = Math.max(peak, heapAfterGc() - before);
    }
    peak = Math.max(peak, heapAfterGc() - before);
    const p = topic.partition(0);
    expect(p.logEndOffset).toBe(MESSAGES);
    // What is kept: at least retentionBytes, at most that and one batch (~16 KiB) more.
    const kept = p.logEndOffset - p.logStartOffset;
    expect(kept * 100).toBeGreaterThanOrEqual(RETENTION_BYTES * 0.8);
    expect(kept * 100).toBeLessThan(RETENTION_BYTES * 1.2);
    // The heap holds what is kept (a few MiB), not what went through (~220 MB of batches).
    expect(peak).toBeLessThan(48 << 20);

    // A consumer left at offset 0 fell behind retention: 'earliest' resumes at the log start (in the same poll)…
    const resumed = await behind.poll();
    expect(resumed[0]!.offset).toBe(p.logStartOffset);
    // …and 'none' is told so.
    await expect(strict.poll()).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', offset: 0 });
    await broker.close();
  }, 120_000);
});
