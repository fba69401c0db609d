/**
 * The queue table people build by hand in SQLite, through `better-sqlite3` (synchronous, one
 * connection): `queue(id INTEGER PRIMARY KEY AUTOINCREMENT, value BLOB, ts INTEGER)` (AUTOINCREMENT: ids are never reused after the DELETEs). A producer INSERTs, in a
 * transaction of 1000 rows or one row per transaction; the consumer SELECTs up to 1000 rows after
 * its position, handles them, then acknowledges by DELETEing them (its own transaction).
 *
 * Durability: `:memory:` (lost with the process); on disk, `journal_mode=WAL` with
 * `synchronous=NORMAL` (a commit is in the WAL in the OS page cache: survives a process crash, the
 * WAL is fsynced only at checkpoints, so a power cut can lose recent commits — kafkalite's
 * `'interval'`/`'never'`) or `synchronous=FULL` (the WAL is fsynced at every commit: kafkalite's
 * `'always'`). SQLite has no group commit: each transaction pays its own fsync.
 *
 * better-sqlite3 is a native addon, built from source when `npm run bench` installs the peers into
 * bench/node_modules; if it is missing or unbuilt the rows say so.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Tally, Unavailable, VALUE_SIZE, type Case, type Sample } from '../harness.js';

type Database = BetterSqlite3.Database;
type DatabaseConstructor = typeof BetterSqlite3;

export type SqliteMode = 'memory' | 'NORMAL' | 'FULL';

export const SQLITE_LACKS =
  'no replay once acknowledged (rows deleted), no consumer groups or partitions, no push (the consumer polls), ' +
  'one writer at a time and no group commit (each transaction its own fsync)';

const VALUE = Buffer.alloc(VALUE_SIZE, 0x61);
const BATCH = 1000;

let loaded: Promise<DatabaseConstructor> | undefined;

function loadSqlite(): Promise<DatabaseConstructor> {
  loaded ??= (async () => {
    try {
      const mod = await import('better-sqlite3');
      const Database = mod.default;
      new Database(':memory:').close(); // loads the native addon
      return Database;
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new Unavailable(
        `better-sqlite3 is not installed or its native addon is not built (${message}); ` +
          '`npm run bench` installs it into bench/node_modules and builds it from source with node-gyp (python3, make, g++ and Node\'s headers: see bench/.npmrc)',
      );
    }
  })();
  return loaded;
}

export const durabilityOf = (mode: SqliteMode): string =>
  mode === 'memory' ? 'memory' : mode === 'NORMAL' ? 'process crash (WAL, synchronous=NORMAL)' : 'power loss (WAL, synchronous=FULL)';

interface Queue {
  db: Database;
  dir: string | undefined;
  /** Inserts `n` rows in one transaction. */
  produce(n: number): void;
  /** Inserts one row (its own transaction). */
  produceOne(): void;
  /** Reads up to 1000 rows after the position, tallies them, deletes them; returns how many. */
  consume(tally: Tally): number;
  close(): void;
}

async function openQueue(mode: SqliteMode): Promise<Queue> {
  const Database = await loadSqlite();
  const dir = mode === 'memory' ? undefined : mkdtempSync(path.join(process.env.KAFKALITE_BENCH_DIR ?? tmpdir(), 'kafkalite-bench-sqlite-'));
  const db = new Database(dir === undefined ? ':memory:' : path.join(dir, 'queue.db'));
  if (mode !== 'memory') {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${mode}`);
  }
  db.exec('CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, value BLOB NOT NULL, ts INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO queue (value, ts) VALUES (?, ?)');
  const insertMany = db.transaction((n: number) => {
    const ts = Date.now();
    for (let i = 0; i < n; i++) insert.run(VALUE, ts);
  });
  const select = db.prepare('SELECT id, value FROM queue WHERE id > ? ORDER BY id LIMIT 1000');
  const remove = db.prepare('DELETE FROM queue WHERE id <= ?');
  let position = 0;
  return {
    db,
    dir,
    produce: (n) => insertMany(n),
    produceOne: () => insert.run(VALUE, Date.now()),
    consume(tally) {
      const rows = select.all(position) as { id: number; value: Buffer }[];
      if (rows.length === 0) return 0;
      for (let i = 0; i < rows.length; i++) tally.add({ offset: rows[i]!.id - 1, value: rows[i]!.value });
      position = rows[rows.length - 1]!.id;
      remove.run(position);
      return rows.length;
    },
    close() {
      db.close();
    },
  };
}

function removeDir(dir: string | undefined): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}

/**
 * Producer and consumer in one loop (better-sqlite3 is synchronous): INSERT a transaction of
 * `perTx` rows, then the consumer drains what is there (SELECT ≤1000, DELETE), and so on.
 */
export function sqliteQueueCase(o: { name: string; id?: string; mode: SqliteMode; messages: number; perTx: number; maxRuns?: number }): Case {
  return {
    name: o.name,
    ...(o.id === undefined ? {} : { id: o.id }),
    messages: o.messages,
    system: 'SQLite queue',
    durability: durabilityOf(o.mode),
    lacks: SQLITE_LACKS,
    ...(o.maxRuns === undefined ? {} : { maxRuns: o.maxRuns }),
    async prepare() {
      const queue = await openQueue(o.mode);
      const tally = new Tally();
      return {
        run() {
          for (let sent = 0; sent < o.messages; ) {
            const n = Math.min(o.perTx, o.messages - sent);
            if (n === 1) queue.produceOne();
            else queue.produce(n);
            sent += n;
            while (queue.consume(tally) > 0);
          }
        },
        finish() {
          tally.verify(o.messages, o.name);
          queue.close();
          removeDir(queue.dir);
        },
      };
    },
  };
}

/** Produce only (as the file-storage rows): INSERT in transactions of `perTx`; the run ends with `close()`. */
export function sqliteProduceCase(o: { name: string; id?: string; mode: SqliteMode; messages: number; perTx: number; maxRuns?: number }): Case {
  return {
    name: o.name,
    ...(o.id === undefined ? {} : { id: o.id }),
    messages: o.messages,
    system: 'SQLite queue',
    durability: durabilityOf(o.mode),
    lacks: SQLITE_LACKS,
    ...(o.maxRuns === undefined ? {} : { maxRuns: o.maxRuns }),
    async prepare() {
      const queue = await openQueue(o.mode);
      const Database = await loadSqlite();
      return {
        run() {
          for (let sent = 0; sent < o.messages; ) {
            const n = Math.min(o.perTx, o.messages - sent);
            if (n === 1) queue.produceOne();
            else queue.produce(n);
            sent += n;
          }
          queue.close();
        },
        finish() {
          const check = new Database(path.join(queue.dir!, 'queue.db'), { readonly: true });
          const { n } = check.prepare('SELECT count(*) AS n FROM queue').get() as { n: number };
          check.close();
          removeDir(queue.dir);
          if (n !== o.messages) throw new Error(`${o.name}: the table holds ${n} rows, expected ${o.messages}`);
        },
      };
    },
  };
}

/** Retained bytes of `messages` rows in a `:memory:` table: page_count × page_size. */
export function sqliteMemoryCase(name: string, messages: number): Case {
  return {
    name,
    messages,
    kind: 'memory',
    system: 'SQLite queue',
    durability: durabilityOf('memory'),
    lacks: SQLITE_LACKS,
    async prepare() {
      const queue = await openQueue('memory');
      const rss = process.memoryUsage().rss;
      return {
        run() {
          for (let sent = 0; sent < messages; sent += BATCH) queue.produce(Math.min(BATCH, messages - sent));
        },
        finish(): Sample {
          const pages = queue.db.pragma('page_count', { simple: true }) as number;
          const pageSize = queue.db.pragma('page_size', { simple: true }) as number;
          const rssBytes = process.memoryUsage().rss - rss;
          queue.close();
          return { retainedBytes: pages * pageSize, rssBytes };
        },
      };
    },
  };
}
