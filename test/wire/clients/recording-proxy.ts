/**
 * A loopback TCP proxy in front of a listener that notes the api key and version of every request
 * a client sends through it: what a client negotiated, seen on the wire rather than taken from
 * the client's word. Metadata passes through untouched, so the listener must advertise the
 * proxy's address: bind the listener to 127.0.0.2:P advertising 127.0.0.1, and the proxy to
 * 127.0.0.1:P (`proxyAt`).
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { FrameReader } from '../../../src/wire/frame-reader.js';

export interface RecordingProxy {
  readonly port: number;
  /** `apiKey` → the versions requests used. */
  readonly seen: Map<number, Set<number>>;
  close(): Promise<void>;
}

export async function recordingProxy(targetPort: number, targetHost = '127.0.0.1', port = 0): Promise<RecordingProxy> {
  const seen = new Map<number, Set<number>>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const reader = new FrameReader(1 << 30);
    client.on('data', (chunk: Buffer) => {
      reader.push(Buffer.from(chunk), (frame) => {
        if (frame.length >= 4) {
          const key = (frame[0]! << 8) | frame[1]!;
          const version = (frame[2]! << 8) | frame[3]!;
          if (!seen.has(key)) seen.set(key, new Set());
          seen.get(key)!.add(version);
        }
        return true;
      });
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
