/**
 * `avsc`, the Avro implementation, is an optional peer dependency: only users of Avro schemas
 * install it. It is imported on first use, so that loading kafkalite never needs it.
 */
import type * as Avsc from 'avsc';
import { unsupported } from '../errors.js';

export type AvroType = Avsc.Type;
export type AvroModule = typeof Avsc;

let loading: Promise<AvroModule> | undefined;

/** The `avsc` module; `UNSUPPORTED` naming the package when it is not installed. */
export function loadAvsc(): Promise<AvroModule> {
  loading ??= import('avsc').then(
    // avsc is CommonJS: under ESM its exports arrive as `default`.
    (module: { default?: unknown }) => (module.default ?? module) as AvroModule,
    () => {
      // Not cached: installing the package while the process runs makes the next call work.
      loading = undefined;
      throw unsupported('Avro schemas', "the optional package 'avsc' is not installed (npm install avsc)");
    },
  );
  return loading;
}
