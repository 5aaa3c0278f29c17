/**
 * The storefront's production build (clients/web, `npm run build -w @commerce/web`), served by the
 * router at /shop/ when WEB_DIST points at the build folder. Optional: the build is plain static
 * files, and any static host serves it as well (then allow its origin with CORS_ORIGINS).
 *
 * Served from here, the page talks to this router's /graphql (same origin), so its CSP allows
 * connections to 'self' only. The storefront routes with the URL's hash (/shop/#/product/7), so
 * only /shop/ itself and its files exist as paths. Files are read once at start.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import type { Logger } from '@commerce/service-kit/core';

export const STOREFRONT_PATH = '/shop/';

export interface StorefrontOptions {
  /** The storefront's build folder (WEB_DIST), holding index.html and assets/. */
  distDir: string;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The page may load its own scripts, styles and images and talk to this router; nothing else.
 * No inline script or style: Vite emits files, and React sets styles through the DOM.
 */
export const STOREFRONT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function serveFile(body: Buffer, type: string, { immutable, page }: { immutable: boolean; page: boolean }): Handler {
  return (request, response) => {
    response.setHeader('content-type', type);
    // Hashed asset names change with their content; the page itself is checked on every visit.
    response.setHeader('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (page) response.setHeader('content-security-policy', STOREFRONT_CSP);
    response.setHeader('content-length', body.length);
    response.writeHead(200);
    response.end(request.method === 'HEAD' ? undefined : body);
  };
}

/**
 * GET routes for the build: /shop/ (and /shop/index.html) the page, every other file at its path
 * under /shop/, and /shop redirected to /shop/. None when no build folder is configured; a
 * configured folder without a build is logged and serves nothing (the API is unaffected).
 */
export function storefrontRoutes(options: StorefrontOptions | undefined, logger: Logger): Record<string, Handler> {
  if (!options) return {};
  const index = join(options.distDir, 'index.html');
  if (!existsSync(index)) {
    logger.warn(`WEB_DIST=${options.distDir} holds no storefront build (no index.html); build it with \`npm run build -w @commerce/web\` and restart`);
    return {};
  }
  const routes: Record<string, Handler> = {};
  for (const file of filesUnder(options.distDir)) {
    const path = `${STOREFRONT_PATH}${relative(options.distDir, file).split(sep).join('/')}`;
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    const immutable = path.startsWith(`${STOREFRONT_PATH}assets/`);
    routes[path] = serveFile(readFileSync(file), type, { immutable, page: path === `${STOREFRONT_PATH}index.html` });
    if (statSync(file).size > 5 * 1024 * 1024) logger.warn(`storefront file ${path} is over 5 MB`);
  }
  routes[STOREFRONT_PATH] = routes[`${STOREFRONT_PATH}index.html`]!;
  routes[STOREFRONT_PATH.slice(0, -1)] = (_request, response) => {
    response.writeHead(308, { location: STOREFRONT_PATH }).end();
  };
  return routes;
}
