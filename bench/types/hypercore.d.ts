/** The little of hypercore 11's API the benchmarks use (the package ships no type declarations). */
declare module 'hypercore' {
  export default class Hypercore {
    constructor(storage: string, options?: Record<string, unknown>);
    ready(): Promise<void>;
    append(blocks: Uint8Array | Uint8Array[]): Promise<{ length: number; byteLength: number }>;
    get(index: number): Promise<Uint8Array | null>;
    readonly length: number;
    close(): Promise<void>;
  }
}
