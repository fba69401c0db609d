import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      { find: /^kafkalite\/kafkajs$/, replacement: fileURLToPath(new URL('./src/kafkajs/index.ts', import.meta.url)) },
      { find: /^kafkalite$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    // NestJS' packages are run through Vite rather than loaded by Node, so that the example's
    // vi.mock('kafkajs', …) reaches the import('kafkajs') inside @nestjs/microservices.
    server: { deps: { inline: [/@nestjs\//] } },
    testTimeout: 20_000,
  },
});
