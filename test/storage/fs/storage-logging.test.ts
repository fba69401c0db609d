/**
 * What FileStorage repairs or fails at in the background is never silent: a cut torn tail and a
 * failing periodic fsync reach the broker's logger.
 */
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, FileStorage, ManualClock, type Logger } from 'kafkalite';
import { faultyFs } from './faulty-fs.js';
import { tempDir, useStorages } from './fs-helpers.js';
import { nodeFileSystem } from '../../../src/storage/fs/file-system.js';

const { dirs } = useStorages();

function capture(): { logger: Logger; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('FileStorage reports to the broker logger', () => {
  it('warns when it cuts a torn tail, naming the file, the bytes and where the log now ends', async () => {
    const dir = tempDir('log-tail');
    dirs.push(dir);
    const first = await Broker.open({ storage: new FileStorage({ dir }), logger: 'silent' });
    await first.producer().send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    await first.close();
    const segment = join(dir, 't-0', readdirSync(join(dir, 't-0')).find((f) => f.endsWith('.log'))!);
    appendFileSync(segment, Buffer.alloc(37, 0xab));
    const { logger, lines } = capture();
    const second = await Broker.open({ storage: new FileStorage({ dir }), logger });
    expect(second.topic('t').partition(0).logEndOffset).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.message).toContain(`cut 37 bytes of torn tail from ${segment}`);
    expect(lines[0]!.message).toContain('the log ends at offset 2');
    await second.close();
  });

  it("logs a failing background fsync under 'interval' (once per cause, then rate-limited)", async () => {
    const dir = tempDir('log-fsync');
    dirs.push(dir);
    const faulty = faultyFs(nodeFileSystem);
    const clock = new ManualClock();
    const { logger, lines } = capture();
    const broker = await Broker.open({ storage: new FileStorage({ dir, fsync: 'interval', fsyncIntervalMs: 100, fs: faulty.fs }), clock, logger });
    faulty.arm({ nth: 1, code: 'EIO', mode: 'forever', ops: ['fdatasync'] });
    const producer = broker.producer();
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic: 't', messages: [{ value: `v${i}` }] });
      await clock.advance(100);
    }
    const failures = lines.filter((l) => /background fsync of .* failed: .*EIO/.test(l.message));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.level).toBe('error');
    faulty.clear();
    await broker.close();
  });
});
