/**
 * The GraphQL IDE, served by the router itself: GraphiQL built from npm at build time
 * (router/ide/, `npm run build:ide -w @commerce/router`, which `npm start` runs) into
 * router/ide/dist/. The page is at `/` and at the GraphQL path for browsers (a GET that prefers
 * text/html); its hashed assets at /ide/assets/…, cached for a year. Nothing on the page comes
 * from another host, and its CSP says so.
 *
 * On in development; in production only when asked (IDE=true). When the build is missing the
 * router still starts, and the page answers 503 saying how to build it.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpOptions, Logger } from '@commerce/service-kit/core';

export const DEFAULT_IDE_DIST = fileURLToPath(new URL('../ide/dist', import.meta.url));
export const IDE_ASSETS_PATH = '/ide/assets/';
const BUILD_COMMAND = 'npm run build:ide -w @commerce/router';

export interface IdeOptions {
  /** Serve the IDE. Default: in development yes, in production no (IDE=true turns it on). */
  enabled?: boolean;
  /** Where the built IDE is (default router/ide/dist). */
  distDir?: string;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * The page's policy. `nonce` is this response's: Monaco and Radix create <style> elements at run
 * time, and the page gives each one the nonce (router/ide/src/page-config.ts).
 * - script-src 'self': only the bundle's own files; no inline script, no eval.
 * - style-src 'self' 'nonce-…': the bundle's stylesheet and the editor's own <style> elements.
 * - style-src-attr 'unsafe-inline': Monaco positions each rendered line with a style attribute
 *   in markup it builds as HTML; attributes cannot carry a nonce. An attribute styles one element
 *   and cannot use selectors (no attribute-selector exfiltration), and it can load nothing beyond
 *   what img-src and font-src allow.
 * - img-src / font-src 'self' data:: GraphiQL's stylesheet embeds its fonts and a few icons as
 *   data: URLs (inert: a data: image or font cannot run script).
 * - connect-src 'self': queries go to this router only. worker-src 'self': Monaco's workers are
 *   bundled files (no blob: workers).
 * - frame-ancestors, base-uri, form-action, object-src 'none': not framed, no <base> rewriting,
 *   no form posts anywhere, no plugins.
 */
export function ideContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** For the bundle's scripts: a worker runs under its script's own policy, and needs only same-origin scripts. */
const SCRIPT_ASSET_POLICY = "default-src 'none'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

interface Variant {
  file: string;
  size: number;
}

interface Asset extends Variant {
  type: string;
  br?: Variant;
  gzip?: Variant;
}

/** The built IDE, read once at start: the page template and every asset (served from disk). */
interface IdeBuild {
  template: string;
  assets: Map<string, Asset>;
}

function readBuild(distDir: string): IdeBuild | null {
  const index = join(distDir, 'index.html');
  const assetsDir = join(distDir, 'assets');
  if (!existsSync(index) || !existsSync(assetsDir)) return null;
  const template = readFileSync(index, 'utf8');
  if (!template.includes('__IDE_CONFIG__')) return null;
  const variant = (file: string): Variant | undefined => (existsSync(file) ? { file, size: statSync(file).size } : undefined);
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(assetsDir)) {
    if (name.endsWith('.br') || name.endsWith('.gz')) continue;
    const file = join(assetsDir, name);
    if (!statSync(file).isFile()) continue;
    const br = variant(`${file}.br`);
    const gzip = variant(`${file}.gz`);
    assets.set(`${IDE_ASSETS_PATH}${name}`, {
      file,
      size: statSync(file).size,
      type: CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
      ...(br ? { br } : {}),
      ...(gzip ? { gzip } : {}),
    });
  }
  return { template, assets };
}

/** Whether an Accept-Encoding header admits a coding (listed, or `*`, with q > 0). */
function acceptsEncoding(header: string | undefined, coding: string): boolean {
  if (!header) return false;
  let wildcard = false;
  for (const part of header.toLowerCase().split(',')) {
    const [name = '', ...params] = part.split(';').map((piece) => piece.trim());
    const q = params.find((param) => param.startsWith('q='));
    const acceptable = q === undefined || Number(q.slice(2)) > 0;
    if (name === coding) return acceptable;
    if (name === '*') wildcard = acceptable;
  }
  return wildcard;
}

/** Adds to Vary (the HTTP layer may already vary by origin, for CORS). */
function vary(response: ServerResponse, header: string): void {
  const current = String(response.getHeader('vary') ?? '');
  response.setHeader('vary', current ? `${current}, ${header}` : header);
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function serveAsset(asset: Asset): Handler {
  return (request, response) => {
    const encodings = request.headers['accept-encoding'];
    const [encoding, chosen] =
      asset.br && acceptsEncoding(encodings, 'br') ? ['br', asset.br] : asset.gzip && acceptsEncoding(encodings, 'gzip') ? ['gzip', asset.gzip] : [null, asset];
    response.setHeader('content-type', asset.type);
    // The names carry a hash of the content: a new build has new names, so a copy never goes stale.
    response.setHeader('cache-control', 'public, max-age=31536000, immutable');
    response.setHeader('cross-origin-resource-policy', 'same-origin');
    if (asset.type.startsWith('text/javascript')) response.setHeader('content-security-policy', SCRIPT_ASSET_POLICY);
    if (asset.br || asset.gzip) vary(response, 'accept-encoding');
    if (encoding) response.setHeader('content-encoding', encoding);
    response.setHeader('content-length', chosen.size);
    response.writeHead(200);
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(chosen.file)
      .on('error', () => response.destroy())
      .pipe(response);
  };
}

function notBuilt(distDir: string): Handler {
  const message = `The GraphQL IDE is not built (nothing usable in ${distDir}). Build it with \`${BUILD_COMMAND}\` (npm start does this) and restart the router. The GraphQL API itself is up: POST your queries to this URL.`;
  return (request, response) => {
    vary(response, 'accept');
    if (String(request.headers.accept ?? '').includes('text/html')) {
      response.writeHead(503, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>GraphQL IDE not built</title></head>` +
          `<body><h1>The GraphQL IDE is not built</h1><p>${escapeAttribute(message)}</p></body></html>\n`,
      );
      return;
    }
    response.writeHead(503, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify({ errors: [{ message, extensions: { code: 'SERVICE_UNAVAILABLE' } }] }));
  };
}

/**
 * What the HTTP layer needs to serve the IDE: the page at `/` and (for browsers) at the GraphQL
 * path, and each asset at its exact path. Nothing when the IDE is off, so `/` is a 404 and a
 * browser at the GraphQL path gets Apollo's answer (the landing page is disabled).
 */
export function ideHttpOptions(options: IdeOptions & { production: boolean; graphqlPath?: string; logger: Logger }): Pick<HttpOptions<never, never>, 'routes' | 'htmlPage'> {
  if (!(options.enabled ?? !options.production)) return {};
  const distDir = options.distDir ?? DEFAULT_IDE_DIST;
  const build = readBuild(distDir);
  if (!build) {
    options.logger.warn(`the GraphQL IDE is not built (${distDir}); browsers get a 503 until it is: run \`${BUILD_COMMAND}\` and restart`);
    const page = notBuilt(distDir);
    return { routes: { '/': page }, htmlPage: page };
  }
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const page: Handler = (_request, response) => {
    const nonce = randomBytes(18).toString('base64');
    // The dev sign-in offers the seeded users' development password, which production never has.
    const config = { graphqlPath, devSignIn: !options.production, styleNonce: nonce };
    const html = build.template.replace('__IDE_CONFIG__', escapeAttribute(JSON.stringify(config)));
    response.setHeader('content-security-policy', ideContentSecurityPolicy(nonce));
    // The same URL answers JSON to API clients; the page holds a one-time nonce, so it is never stored.
    vary(response, 'accept');
    response.setHeader('cache-control', 'no-store');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
    response.end(html);
  };
  const routes: Record<string, Handler> = { '/': page };
  for (const [path, asset] of build.assets) routes[path] = serveAsset(asset);
  return { routes, htmlPage: page };
}
