/**
 * The little of ioredis 6's API the benchmarks use, so that the root type-check covers `bench/`
 * without the benchmark peers installed (they are installed into bench/node_modules by
 * `npm run bench`). bench/tsconfig.json leaves this folder out and checks against the types
 * ioredis ships instead: `npm run bench:typecheck`.
 */
declare module 'ioredis' {
  type Arg = string | Buffer | number;

  export interface RedisOptions {
    host?: string;
    port?: number;
    lazyConnect?: boolean;
    maxRetriesPerRequest?: number | null;
    enableOfflineQueue?: boolean;
    retryStrategy?: (times: number) => number | void | null;
  }

  export interface ChainableCommander {
    xadd(key: string, ...args: Arg[]): ChainableCommander;
    exec(): Promise<[error: Error | null, result: unknown][] | null>;
  }

  export class Redis {
    constructor(options: RedisOptions);
    connect(): Promise<void>;
    disconnect(reconnect?: boolean): void;
    on(event: 'error', listener: (error: Error) => void): this;
    ping(): Promise<string>;
    info(...sections: string[]): Promise<string>;
    flushall(): Promise<'OK'>;
    xgroup(subcommand: 'CREATE', key: string, group: string, id: string, mkstream: 'MKSTREAM'): Promise<unknown>;
    xadd(key: string, ...args: Arg[]): Promise<string | null>;
    xack(key: string, group: string, ...ids: Arg[]): Promise<number>;
    xlen(key: string): Promise<number>;
    /** Replies with Buffers; the shape depends on RESP2/RESP3, so callers cast it. */
    xreadgroupBuffer(...args: Arg[]): Promise<unknown>;
    pipeline(): ChainableCommander;
  }
  export default Redis;
}
