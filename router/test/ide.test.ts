/**
 * The GraphQL IDE as the router serves it (router/src/ide.ts), over HTTP: the page and its CSP,
 * the assets and their caching and compression, on and off in production, a 503 when the build
 * is missing, and the example tabs checked against the supergraph and the operation limits. The
 * page in a real browser: test/browser/ide.browser.test.ts.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { ApolloGateway } from '@apollo/gateway';
import { ConfigError, createLogger, type Logger } from '@commerce/service-kit/core';
import { parse, print, visit, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplesFor, problemsOf } from '../ide/examples.ts';
import { DEFAULT_IDE_DIST, ideContentSecurityPolicy } from '../src/ide.ts';
import { DEFAULT_SUPERGRAPH, loadRouterEnv, signingSecretVariable } from '../src/env.ts';
import { createOperationGuard, DEFAULT_OPERATION_LIMITS } from '../src/operation-limits.ts';
import { startRouter, subgraphsOf, type RouterOptions, type RunningRouter } from '../src/router.ts';

const supergraphSdl = readFileSync(DEFAULT_SUPERGRAPH, 'utf8');
// Serving the page and its assets needs no subgraph: none is called, so none is started.
const signingSecrets = new Map(subgraphsOf(supergraphSdl).map(({ name }) => [signingSecretVariable(name), 'a-test-signing-secret-of-40-characters!!']));
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

const routers: RunningRouter[] = [];
async function routerWith(options: Partial<RouterOptions> = {}): Promise<RunningRouter> {
  const router = await startRouter({ supergraphSdl, signingSecrets, logger: createLogger('router', 'silent'), ...options });
  routers.push(router);
  return router;
}

afterAll(async () => {
  for (const router of routers) await router.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with exactly these headers (fetch would add Accept-Encoding and decompress). */
function raw(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

const page = (router: RunningRouter, path = '/graphql') => raw(`${router.url}${path}`, { accept: BROWSER_ACCEPT });

/** The config the router wrote into the page, as the page's script reads it. */
function configOf(html: string): { graphqlPath: string; devSignIn: boolean; styleNonce: string } {
  const match = /data-config="([^"]*)"/.exec(html);
  if (!match?.[1]) throw new Error('no data-config in the page');
  return JSON.parse(match[1].replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))));
}

/** turbo builds the IDE before these tests (`build:ide`); run alone, vitest needs it built first. */
function requireBuild(): void {
  if (!existsSync(join(DEFAULT_IDE_DIST, 'index.html'))) throw new Error(`the IDE is not built in ${DEFAULT_IDE_DIST}: run \`npm run build:ide -w @commerce/router\``);
}

describe('the IDE page (development)', () => {
  let router: RunningRouter;
  beforeAll(async () => {
    requireBuild();
    router = await routerWith();
  });

  it('is served at / and, to browsers, at /graphql, with its own strict CSP', async () => {
    for (const path of ['/', '/graphql']) {
      const response = await page(router, path);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers.vary).toBe('accept');
      const html = response.body.toString('utf8');
      const { styleNonce, devSignIn, graphqlPath } = configOf(html);
      expect({ devSignIn, graphqlPath }).toEqual({ devSignIn: true, graphqlPath: '/graphql' });
      expect(styleNonce).toMatch(/^[A-Za-z0-9+/]{24}$/);
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toBe(ideContentSecurityPolicy(styleNonce));
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name = '', ...sources]) => [name, sources.join(' ')]));
      expect(Object.fromEntries(directives)).toEqual({
        'default-src': "'self'",
        'script-src': "'self'",
        'style-src': `'self' 'nonce-${styleNonce}'`,
        'style-src-attr': "'unsafe-inline'",
        'img-src': "'self' data:",
        'font-src': "'self' data:",
        'connect-src': "'self'",
        'worker-src': "'self'",
        'object-src': "'none'",
        'frame-ancestors': "'none'",
        'base-uri': "'none'",
        'form-action': "'none'",
      });
      expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
      // No inline script at all: every <script> loads a file of the bundle from this origin.
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes = '', body] of scripts) {
        expect(attributes).toMatch(/\bsrc="\/ide\/assets\/[^"]+\.js"/);
        expect(body).toBe('');
      }
      expect(html).not.toMatch(/https?:\/\//);
      expect(html).not.toMatch(/Bearer|eyJ|commerce-dev/);
    }
  });

  it('gives every response a fresh nonce', async () => {
    const [a, b] = await Promise.all([page(router), page(router)]);
    expect(configOf(a.body.toString()).styleNonce).not.toBe(configOf(b.body.toString()).styleNonce);
  });

  it('leaves the API to API clients at /graphql', async () => {
    const post = await fetch(router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/html, application/json' }, body: '{"query":"{ __typename }"}' });
    expect(post.status).toBe(200);
    expect(await post.json()).toEqual({ data: { __typename: 'Query' } });
    for (const accept of ['application/json', '*/*', 'application/graphql-response+json, text/html;q=0.5']) {
      const get = await raw(`${router.graphqlUrl}?query=%7B__typename%7D`, { accept, 'apollo-require-preflight': 'true' });
      expect(get.status, accept).toBe(200);
      expect(String(get.headers['content-type'])).toMatch(/json/);
      expect(JSON.parse(get.body.toString())).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('serves every asset with its content type, immutable caching, and brotli or gzip', async () => {
    const html = (await page(router)).body.toString();
    const referenced = [...html.matchAll(/(?:src|href)="(\/ide\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(referenced.some((path) => path.endsWith('.js'))).toBe(true);
    expect(referenced.some((path) => path.endsWith('.css'))).toBe(true);
    const files = readdirSync(join(DEFAULT_IDE_DIST, 'assets')).filter((name) => !/\.(br|gz)$/.test(name));
    // Monaco's workers are files of the bundle too (worker-src 'self', no blob:).
    expect(files.filter((name) => /\.worker-[\w-]+\.js$/.test(name)).length).toBeGreaterThanOrEqual(3);
    const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', ttf: 'font/ttf' };
    for (const name of files) {
      const original = readFileSync(join(DEFAULT_IDE_DIST, 'assets', name));
      const url = `${router.url}/ide/assets/${name}`;
      const identity = await raw(url);
      expect(identity.status, name).toBe(200);
      expect(identity.headers['content-type'], name).toBe(types[name.split('.').pop() ?? ''] ?? 'application/octet-stream');
      expect(identity.headers['cache-control'], name).toBe('public, max-age=31536000, immutable');
      expect(identity.headers['content-encoding'], name).toBeUndefined();
      expect(identity.body.equals(original), name).toBe(true);
      expect(Number(identity.headers['content-length'])).toBe(original.length);
      if (original.length < 1024 || !/\.(js|css|ttf|svg)$/.test(name)) continue;
      // As a module script loads: with an Origin (crossorigin), so the answer varies by both.
      const br = await raw(url, { 'accept-encoding': 'gzip, deflate, br', origin: router.url });
      expect(br.headers['content-encoding'], name).toBe('br');
      expect(br.headers.vary).toBe('origin, accept-encoding');
      expect(brotliDecompressSync(br.body).equals(original), name).toBe(true);
      const gzip = await raw(url, { 'accept-encoding': 'gzip, br;q=0' });
      expect(gzip.headers['content-encoding'], name).toBe('gzip');
      expect(gunzipSync(gzip.body).equals(original), name).toBe(true);
    }
  });

  it('answers HEAD without a body, and 404 for anything that is not an asset', async () => {
    const name = readdirSync(join(DEFAULT_IDE_DIST, 'assets')).find((file) => file.endsWith('.js'));
    const head = await raw(`${router.url}/ide/assets/${name}`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
    for (const path of ['/ide/assets/nope.js', `/ide/assets/${name}.br`, '/ide/index.html', '/ide/assets/../index.html', '/ide/assets/%2e%2e/index.html', '/ide/', '/index.html']) {
      expect((await raw(`${router.url}${path}`, { accept: BROWSER_ACCEPT })).status, path).toBe(404);
    }
  });

  it('was built with the example tabs, including placing an order once the graph can', () => {
    const bundle = readdirSync(join(DEFAULT_IDE_DIST, 'assets'))
      .filter((name) => name.endsWith('.js'))
      .map((name) => readFileSync(join(DEFAULT_IDE_DIST, 'assets', name), 'utf8'))
      .join('\n');
    for (const operation of ['query Catalogue', 'query ProductPage', 'query MyAccount', 'mutation SignIn']) expect(bundle).toContain(operation);
    expect(bundle.includes('mutation PlaceOrder')).toBe(/\bplaceOrder\(/.test(supergraphSdl));
  });
});

describe('the IDE in production', () => {
  it('is off unless enabled: / is a 404, and a browser at /graphql gets Apollo, not a page', async () => {
    const router = await routerWith({ production: true });
    expect((await page(router, '/')).status).toBe(404);
    const browser = await page(router);
    const plain = await raw(router.graphqlUrl, { accept: 'application/json' });
    expect(String(browser.headers['content-type'])).toMatch(/json/);
    expect(browser.status).toBe(plain.status);
    expect(browser.body.toString()).not.toMatch(/<html|sandbox|embeddable/i);
    expect((await raw(`${router.url}/ide/assets/${readdirSync(join(DEFAULT_IDE_DIST, 'assets'))[0] ?? 'x.js'}`)).status).toBe(404);
  });

  it('with IDE=true, serves the page without the development sign-in', async () => {
    expect(loadRouterEnv([], { NODE_ENV: 'production' }).ide).toBe(false);
    expect(loadRouterEnv([], { NODE_ENV: 'production', IDE: 'true' }).ide).toBe(true);
    expect(loadRouterEnv([], {}).ide).toBe(true);
    expect(loadRouterEnv([], { IDE: 'false' }).ide).toBe(false);
    expect(() => loadRouterEnv([], { IDE: 'yes' })).toThrow(ConfigError);
    requireBuild();
    const router = await routerWith({ production: true, ide: { enabled: true } });
    const response = await page(router);
    expect(response.status).toBe(200);
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(configOf(response.body.toString()).devSignIn).toBe(false);
  });

  it('never serves Apollo Sandbox, in development either', async () => {
    const router = await routerWith({ ide: { enabled: false } });
    const browser = await page(router);
    expect(String(browser.headers['content-type'])).toMatch(/json/);
    expect(browser.body.toString()).not.toMatch(/<html|sandbox|embeddable/i);
  });
});

describe('the IDE without its build', () => {
  let emptyDir: string;
  const warnings: string[] = [];
  let router: RunningRouter;
  beforeAll(async () => {
    emptyDir = mkdtempSync(join(tmpdir(), 'ide-missing-'));
    const silent = createLogger('router', 'silent');
    const logger: Logger = { ...silent, warn: (message) => warnings.push(message), child: () => logger };
    router = await routerWith({ ide: { distDir: emptyDir }, logger });
  });
  afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

  it('starts, says so once, and answers browsers 503 with how to build it', async () => {
    expect(warnings.filter((w) => w.includes('not built'))).toHaveLength(1);
    for (const path of ['/', '/graphql']) {
      const response = await page(router, path);
      expect(response.status, path).toBe(503);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body.toString()).toContain('npm run build:ide -w @commerce/router');
    }
    const json = await raw(`${router.url}/`, { accept: 'application/json' });
    expect(json.status).toBe(503);
    expect(JSON.parse(json.body.toString())).toMatchObject({ errors: [{ extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  });

  it('still serves the API', async () => {
    const response = await fetch(router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('the example tabs', () => {
  let apiSchema: GraphQLSchema;
  let gateway: ApolloGateway;
  beforeAll(async () => {
    process.env.APOLLO_TELEMETRY_DISABLED = '1';
    gateway = new ApolloGateway({ supergraphSdl });
    ({ schema: apiSchema } = await gateway.load());
  });
  afterAll(() => gateway?.stop());

  it('cover the main flows, and each operation is valid and within the router limits', () => {
    const { tabs, notes } = examplesFor(supergraphSdl);
    const operationsOf = (query: string) =>
      parse(query)
        .definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')
        .map((operation) => operation.name?.value ?? '');
    const names = tabs.flatMap((tab) => operationsOf(tab.query));
    expect(names.slice(0, 4)).toEqual(['Catalogue', 'ProductPage', 'MyAccount', 'SignIn']);
    if (/\bplaceOrder\(/.test(supergraphSdl)) {
      expect(notes).toEqual([]);
      expect(names).toContain('PlaceOrder');
      if (/\bcancelOrder\(/.test(supergraphSdl)) expect(names).toContain('CancelOrder');
    }
    const guard = createOperationGuard({ supergraphSdl, apiSchema, limits: DEFAULT_OPERATION_LIMITS });
    for (const tab of tabs) {
      expect(problemsOf(apiSchema, tab)).toEqual([]);
      const variables = tab.variables ? (JSON.parse(tab.variables) as Record<string, unknown>) : null;
      for (const operationName of operationsOf(tab.query)) expect(guard({ query: tab.query, variables, operationName }), operationName).toBeNull();
    }
  });

  it('leave out placing an order, with a note, while the graph cannot', () => {
    const without = print(
      visit(parse(supergraphSdl), {
        FieldDefinition: (field) => (['placeOrder', 'cancelOrder'].includes(field.name.value) ? null : undefined),
      }),
    );
    const { tabs, notes } = examplesFor(without);
    expect(tabs.map((tab) => /mutation PlaceOrder/.test(tab.query))).not.toContain(true);
    expect(notes.join()).toMatch(/no placeOrder/);
  });
});
