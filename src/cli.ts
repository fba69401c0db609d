#!/usr/bin/env node
/**
 * `kafkalite serve`: a kafkalite broker on a TCP port, for any Kafka client (kcat, Java,
 * Python, Go …), and with `--schema-registry` Confluent Schema Registry's REST API beside it
 * (schemas kept in the broker's `_schemas` topic). Memory storage unless `--dir`; one banner
 * line once it listens; SIGINT or SIGTERM close it cleanly (records fsynced, the folder's lock released). Exit codes: 0 after a
 * clean close, 2 for bad usage, 1 for a failure.
 */
import { parseArgs } from 'node:util';
import { Broker } from './broker/broker.js';
import { KafkaliteError } from './errors.js';
import { SchemaRegistry } from './schema/schema-registry.js';
import { FileStorage } from './storage/fs/fs-storage.js';

const USAGE = `Usage: kafkalite serve [options]

Runs a Kafka broker (one node) that any Kafka client can connect to.

Options:
  --port <n>              TCP port (default 9092; 0 picks a free one)
  --host <address>        address to bind (default 127.0.0.1: this machine only)
  --dir <folder>          keep data in this folder (default: in memory, gone at exit)
  --partitions <n>        partitions of auto-created topics (default 1)
  --schema-registry <n>   also serve a schema registry (Confluent's REST API) on
                          this port, on the same host; schemas are kept in the
                          broker's _schemas topic (so in --dir when given)
  -h, --help              show this help
`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Thrown for bad usage: the message goes to stderr with the usage, exit code 2. */
class UsageError extends Error {}

interface ServeOptions {
  port: number;
  host: string;
  dir: string | undefined;
  partitions: number;
  schemaRegistry: number | undefined;
}

function parse(argv: string[]): ServeOptions | 'help' {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          port: { type: 'string' },
          host: { type: 'string' },
          dir: { type: 'string' },
          partitions: { type: 'string' },
          'schema-registry': { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  })();
  if (values.help === true) return 'help';
  if (positionals.length === 0) throw new UsageError('missing command: kafkalite serve');
  if (positionals[0] !== 'serve' || positionals.length > 1) throw new UsageError(`unknown command: ${positionals.join(' ')}`);
  const integer = (name: string, text: string | undefined, fallback: number, min: number, max: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(text)})`);
    return n;
  };
  if (values.dir !== undefined && values.dir.length === 0) throw new UsageError('--dir needs a folder');
  if (values.host !== undefined && values.host.length === 0) throw new UsageError('--host needs an address');
  return {
    port: integer('port', values.port, 9092, 0, 65535),
    host: values.host ?? '127.0.0.1',
    dir: values.dir,
    partitions: integer('partitions', values.partitions, 1, 1, 100_000),
    schemaRegistry: values['schema-registry'] === undefined ? undefined : integer('schema-registry', values['schema-registry'], 0, 0, 65535),
  };
}

/**
 * Runs the CLI: resolves with the exit code once the broker closed (after `stop` resolves,
 * SIGINT/SIGTERM in the real process), or at once for help and bad usage.
 */
export async function main(argv: string[], io: CliIo, stop: Promise<unknown>): Promise<number> {
  let options: ServeOptions | 'help';
  try {
    options = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`kafkalite: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    io.out(USAGE);
    return 0;
  }
  let broker: Broker | undefined;
  let registry: SchemaRegistry | undefined;
  try {
    const storage = options.dir === undefined ? undefined : new FileStorage({ dir: options.dir });
    broker = await Broker.open({ ...(storage === undefined ? {} : { storage }), defaultPartitions: options.partitions });
    const listener = await broker.listen({ port: options.port, host: options.host });
    let served = '';
    if (options.schemaRegistry !== undefined) {
      registry = new SchemaRegistry({ broker });
      served = `, schema registry on http://${(await registry.listen({ port: options.schemaRegistry, host: options.host })).address}`;
    }
    io.out(`kafkalite listening on ${listener.address} (bootstrap server), storage: ${storage === undefined ? 'memory' : storage.dir}, ${options.partitions} partition${options.partitions === 1 ? '' : 's'} per new topic${served}`);
  } catch (error) {
    io.err(`kafkalite: ${error instanceof KafkaliteError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}`);
    await registry?.close().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    return 1;
  }
  await stop;
  try {
    await registry?.close();
    await broker.close();
    return 0;
  } catch (error) {
    io.err(`kafkalite: closing failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** Started as a program (not imported by a test): wire the process to `main`. */
const invokedAs = process.argv[1] ?? '';
if (/(?:^|[\\/])(?:cli\.(?:js|cjs|ts)|kafkalite)$/.test(invokedAs)) {
  const stop = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const io: CliIo = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };
  main(process.argv.slice(2), io, stop).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`kafkalite: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
