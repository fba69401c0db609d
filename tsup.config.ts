import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', kafkajs: 'src/kafkajs/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The CLI below is built at the same time, into the same folder: leave its files alone.
    clean: ['!cli.js', '!cli.js.map'],
    target: 'node20',
    treeshake: true,
    // import.meta.url in the CommonJS build too (the optional native CRC-32C is loaded through it).
    shims: true,
  },
  {
    // The `kafkalite` command (package.json `bin`): one ESM file with its shebang, no types.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    treeshake: true,
  },
]);
