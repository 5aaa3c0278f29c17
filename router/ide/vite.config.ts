/**
 * Builds the GraphQL IDE (GraphiQL 5, React, Monaco and its workers) from npm into static,
 * content-hashed files in router/ide/dist/, which the router serves itself (router/src/ide.ts):
 * the page needs nothing from any other host. Run as the router's `build:ide` (a turbo task that
 * `npm start` and the router's tests depend on).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { examplesFor } from './examples.ts';

const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(root, 'dist');
const { tabs, notes } = examplesFor(readFileSync(new URL('../supergraph.graphql', import.meta.url), 'utf8'));
for (const note of notes) console.warn(`ide: ${note}`);

/**
 * Compressible assets get .br and .gz siblings, so the router sends them compressed without
 * compressing per request (about 6 MB become 1.9 MB with brotli; quality 9 takes 1.5 s here, 11
 * takes 19 s for 4 % less).
 */
function precompress(): Plugin {
  return {
    name: 'commerce-ide-precompress',
    apply: 'build',
    closeBundle() {
      const assets = join(outDir, 'assets');
      for (const name of readdirSync(assets)) {
        if (!/\.(js|mjs|css|svg|json|ttf)$/.test(name)) continue;
        const file = join(assets, name);
        const content = readFileSync(file);
        if (statSync(file).size < 1024) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: content.length } }));
        writeFileSync(`${file}.gz`, gzipSync(content, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root,
  // Served by the router under /ide/ (assets at /ide/assets/…); the page itself at / and /graphql.
  base: '/ide/',
  plugins: [react(), precompress()],
  define: { __EXAMPLE_TABS__: JSON.stringify(tabs) },
  worker: { format: 'es' },
  build: {
    outDir,
    emptyOutDir: true,
    // Every asset a file of its own (no data: URLs), so the CSP needs no `data:` source.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    // Monaco and GraphiQL are large by nature; the router serves them compressed and immutable.
    chunkSizeWarningLimit: 6_000,
    rolldownOptions: {
      // GraphiQL's modules start with React Compiler's "use no memo"; bundling drops the directive
      // harmlessly (the code is already compiled), but rolldown warns once per module.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
});
