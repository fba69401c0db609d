/**
 * The little of hdr-histogram-js 3's API the benchmarks use, so that the root type-check covers
 * `bench/` without the benchmark peers installed (they are installed into bench/node_modules by
 * `npm run bench`). bench/tsconfig.json leaves this folder out and checks against the types the
 * package ships instead: `npm run bench:typecheck`.
 */
declare module 'hdr-histogram-js' {
  export type BitBucketSize = 8 | 16 | 32 | 64 | 'packed';

  export interface Histogram {
    readonly maxValue: number;
    recordValue(value: number): void;
    getValueAtPercentile(percentile: number): number;
    add(otherHistogram: Histogram): void;
  }

  export interface BuildRequest {
    bitBucketSize?: BitBucketSize;
    autoResize?: boolean;
    lowestDiscernibleValue?: number;
    highestTrackableValue?: number;
    numberOfSignificantValueDigits?: 1 | 2 | 3 | 4 | 5;
    useWebAssembly?: boolean;
  }

  export function build(request?: BuildRequest): Histogram;
  export function encodeIntoCompressedBase64(histogram: Histogram, compressionLevel?: number): string;
  export function decodeFromCompressedBase64(base64String: string, bitBucketSize?: BitBucketSize): Histogram;
}
