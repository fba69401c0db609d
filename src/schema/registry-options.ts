import type { Broker } from '../broker/broker.js';
import { invalidArgument, show } from '../errors.js';
import type { Storage } from '../storage/storage.js';

/** Options of `new SchemaRegistry(options)`: where its `_schemas` topic lives. */
export interface SchemaRegistryOptions {
  /**
   * Storage for a broker of the registry's own, which holds only `_schemas` and is closed with
   * the registry. A FileStorage folder is locked by one broker: to keep schemas beside your
   * topics, pass that broker as `broker` instead. Not together with `broker`.
   * @default new MemoryStorage() (schemas last as long as the registry)
   */
  storage?: Storage;
  /**
   * A broker to keep `_schemas` in, beside its other topics (what `kafkalite serve --dir D
   * --schema-registry PORT` does); the registry does not close it. One registry per broker: it
   * reads `_schemas` once when it starts and is then its only writer. Not together with `storage`.
   */
  broker?: Broker;
}

/** Options of `registry.listen(options)`. */
export interface RegistryListenOptions {
  /** TCP port; 0 picks a free one. @default 8081 (Confluent Schema Registry's) */
  port?: number;
  /** Address to bind. @default '127.0.0.1' (this machine only) */
  host?: string;
}

export function checkRegistryOptions(options: SchemaRegistryOptions): SchemaRegistryOptions {
  if (options === null || typeof options !== 'object') throw invalidArgument(`SchemaRegistry options must be an object (got ${show(options)})`);
  for (const key of Object.keys(options)) {
    if (key !== 'storage' && key !== 'broker') throw invalidArgument(`unknown SchemaRegistry option ${show(key)}`);
  }
  if (options.storage !== undefined && options.broker !== undefined) {
    throw invalidArgument('SchemaRegistry takes storage or broker, not both: with broker, _schemas lives in that broker\'s storage');
  }
  return options;
}

export function resolveRegistryListenOptions(options: RegistryListenOptions = {}): Required<RegistryListenOptions> {
  const port = options.port ?? 8081;
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArgument(`port must be an integer from 0 to 65535 (got ${show(port)})`);
  if (typeof host !== 'string' || host.length === 0) throw invalidArgument(`host must be a non-empty string (got ${show(host)})`);
  return { port, host };
}
