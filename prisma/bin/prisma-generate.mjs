#!/usr/bin/env node
// `prisma generate` for a service, offline. Prisma 7's client needs no engine binary (driver
// adapters + WASM query compiler), but the CLI still looks for the schema engine at start; any
// existing file satisfies that lookup, and this one is never executed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);
const result = spawnSync('prisma', ['generate', ...process.argv.slice(2)], { stdio: ['ignore', 'ignore', 'inherit'], env, shell: false });
if (result.error) {
  console.error(`prisma-generate: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
