/**
 * The little of better-sqlite3 12's API the benchmarks use, so that the root type-check covers
 * `bench/` without the benchmark peers installed (they are installed into bench/node_modules by
 * `npm run bench`). bench/tsconfig.json leaves this folder out and checks against the real
 * `@types/better-sqlite3` instead: `npm run bench:typecheck`.
 */
declare module 'better-sqlite3' {
  namespace BetterSqlite3 {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
      get(...params: unknown[]): unknown;
      all(...params: unknown[]): unknown[];
    }
    interface Database {
      prepare(source: string): Statement;
      exec(source: string): this;
      pragma(source: string, options?: { simple?: boolean }): unknown;
      transaction<F extends (...params: never[]) => unknown>(fn: F): F;
      close(): this;
    }
    interface Options {
      readonly?: boolean;
    }
  }
  const BetterSqlite3: new (filename?: string, options?: BetterSqlite3.Options) => BetterSqlite3.Database;
  export default BetterSqlite3;
}
