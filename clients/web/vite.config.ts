/**
 * The storefront's development server (`npm run web`: http://localhost:5173, against the router
 * at http://localhost:4000/graphql unless VITE_GRAPHQL_URL says otherwise) and its production
 * build (`npm run build -w @commerce/web` → dist/): static files with relative paths, so the
 * router (WEB_DIST, at /shop/) or any static host can serve them from any folder.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  server: { port: 5173, strictPort: true },
  preview: { port: 4173, strictPort: true },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Every asset a file of its own: the page's CSP (router/src/storefront.ts) allows no inline code.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
