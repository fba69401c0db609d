/** What the SIGKILL crash loops share: a seeded random source, and a child process run until it is killed. */
import { spawn } from 'node:child_process';

/** Seeded so a failing trial can be replayed (KAFKALITE_CRASH_SEED). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Runs `node child args…`, which prints `ready` and then one line per acknowledgement; `parse`
 * turns each into an ack. The child is SIGKILLed `maxMs` after `ready`, or once `killAfter` acks
 * came. Resolves with the acks (a line cut by the kill is none); rejects if the child ended any
 * other way.
 */
export function crashChild<A>(child: string, args: string[], parse: (line: string) => A, killAfter: number, maxMs: number): Promise<A[]> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: A[] = [];
    let buffered = '';
    let stderr = '';
    let ready = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      proc.kill('SIGKILL');
    };
    proc.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') {
          ready = true;
          timer = setTimeout(kill, maxMs);
          continue;
        }
        acks.push(parse(line));
        if (acks.length >= killAfter) kill();
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (signal === 'SIGKILL' && ready) resolve(acks);
      else reject(new Error(`child exited with ${signal ?? code} before it was killed: ${stderr}`));
    });
  });
}
