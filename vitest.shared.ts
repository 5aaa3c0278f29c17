import { defineConfig } from 'vitest/config';

// One config for every package: PGlite start-up and servers need more than the 5 s default.
export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) builds. Node loads the CJS one for every importer;
    // Vite would hand our code the ESM one while CJS packages (@apollo/composition, the gateway)
    // require the CJS one: two GraphQLError classes, and instanceof checks fail. Resolve like Node.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more workers than that only adds contention.
    maxWorkers: 2,
  },
});
