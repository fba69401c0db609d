/**
 * Splits a byte stream into Kafka frames (an int32 size, then that many bytes). A frame that
 * arrived in one chunk is handed out as a view into it; one spread over several chunks is copied
 * once into a buffer of its exact size. A size prefix above `maxFrameBytes` (or negative) is
 * refused as soon as its four bytes are in, before anything is allocated for the frame.
 *
 * Concurrency: one per connection; `push` is synchronous and calls `onFrame` in stream order.
 */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Size of the frame being read, once its prefix is in; -1 before. */
  #size = -1;
  readonly #maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet handed out as a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Takes a chunk and hands every whole frame to `onFrame` (which may return false to stop: the
   * rest stays buffered for the next push). Returns a description of a bad size prefix, else
   * undefined.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => boolean): string | undefined {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    for (;;) {
      if (this.#size < 0) {
        if (this.#buffered < 4) return undefined;
        const size = this.#readInt32();
        if (size < 0 || size > this.#maxFrameBytes) return `request size ${size} is outside 0..${this.#maxFrameBytes} (maxRequestBytes)`;
        this.#size = size;
      }
      if (this.#buffered < this.#size) return undefined;
      const frame = this.#take(this.#size);
      this.#size = -1;
      if (!onFrame(frame)) return undefined;
    }
  }

  /** Reads and consumes the int32 size prefix (at least four bytes are buffered). */
  #readInt32(): number {
    const first = this.#chunks[0]!;
    if (first.length >= 4) {
      const n = (first[0]! << 24) | (first[1]! << 16) | (first[2]! << 8) | first[3]!;
      this.#consume(4);
      return n;
    }
    const b = this.#take(4);
    return (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!;
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      const view = first.subarray(0, n);
      this.#consume(n);
      return view;
    }
    // Buffer.concat copies with memcpy; TypedArray#set between Buffers is many times slower here.
    const parts: Uint8Array[] = [];
    let at = 0;
    while (at < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(c.length, n - at);
      parts.push(k === c.length ? c : c.subarray(0, k));
      at += k;
      this.#consume(k);
    }
    return Buffer.concat(parts, n);
  }

  #consume(n: number): void {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
  }
}
