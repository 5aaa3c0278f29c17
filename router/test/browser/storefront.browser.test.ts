/**
 * The storefront (clients/web) in a real browser: its production build, served by the router at
 * /shop/ (WEB_DIST), in headless Chromium (Debian's package, driven by playwright-core) against
 * the whole supergraph in this process, with every request to a host other than this machine
 * aborted. The router runs in safelist mode with the storefront's generated manifest, the setting
 * recommended for first-party clients in production: every operation the page sends is an id.
 *
 * A shopper's visit: the catalogue, its next page (both pages stay: relayStylePagination over
 * edges), a category, a product page (stock, rating, a reviewer's name), signing in as a seeded
 * user, an order that becomes CONFIRMED, an order inventory cannot fill that becomes REJECTED with
 * its reason, and My orders. Screenshots go to test/browser/artifacts/ (git-ignored).
 *
 * The browser part skips, saying why, only when no Chromium is installed (`apt-get install -y
 * chromium`; or point TEST_CHROMIUM_PATH at one). The build comes from turbo
 * (`@commerce/web#build`, a dependency of the router's tests).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_IN_SAFELIST, parseManifest } from '../../src/persisted.ts';
import { STOREFRONT_CSP } from '../../src/storefront.ts';
import { ARTIFACTS, HAS_CHROMIUM, NO_CHROMIUM, openBrowser, type Browser } from '../support/browser.ts';
import { startSupergraph, type Supergraph } from '../support/supergraph.ts';
const WEB = new URL('../../../clients/web/', import.meta.url);
const WEB_DIST = fileURLToPath(new URL('dist/', WEB));
const MANIFEST = fileURLToPath(new URL('src/generated/persisted-query-manifest.json', WEB));

if (!HAS_CHROMIUM) {
  console.warn(`storefront browser tests skipped: ${NO_CHROMIUM}`);
  describe('the storefront in headless Chromium', () => {
    it.skip(`skipped: ${NO_CHROMIUM}`, () => {});
  });
}

describe.skipIf(!HAS_CHROMIUM)('the storefront in headless Chromium, against a safelisted router', () => {
  let graph: Supergraph;
  let browser: Browser;
  let page: Page;
  let shop: string;
  /** Every GraphQL request body the page sent. */
  const sent: { query?: string; operationName?: string; extensions?: { persistedQuery?: { sha256Hash?: string } } }[] = [];

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html')) || !existsSync(MANIFEST)) {
      throw new Error('the storefront is not built: run `npm run build -w @commerce/web` (turbo runs it before these tests)');
    }
    const manifest = parseManifest(JSON.parse(readFileSync(MANIFEST, 'utf8')), MANIFEST);
    graph = await startSupergraph({ router: { persistedOperations: { manifest, mode: 'safelist' }, storefront: { distDir: WEB_DIST } } });
    shop = `${graph.router.url}/shop/`;

    browser = await openBrowser({
      name: 'storefront',
      viewport: { width: 1280, height: 900 },
      onLocalRequest: (request) => {
        if (new URL(request.url()).pathname === '/graphql' && request.method() === 'POST') sent.push(JSON.parse(request.postData() ?? '{}'));
      },
    });
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await graph?.close();
  });

  const cards = () => page.getByTestId('product-card');
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `storefront-${name}.png`), fullPage: true });

  it('is served by the router at /shop/ with its own strict CSP', async () => {
    const response = await page.goto(shop);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(STOREFRONT_CSP);
    const redirect = await fetch(`${graph.router.url}/shop`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/shop/');
  });

  it('lists the catalogue, and the next page keeps the first one', async () => {
    await expect.poll(() => cards().count(), { timeout: 10_000 }).toBe(12);
    expect(await cards().first().innerText()).toContain('Classic Novel');
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => cards().count(), { timeout: 10_000 }).toBe(24);
    const names = await page.locator('[data-testid=product-card] strong').allInnerTexts();
    expect(names[0]).toBe('Classic Novel');
    expect(new Set(names).size).toBe(24);
    await expect.poll(() => page.locator('.count').innerText()).toBe('Showing 24 products');
    await shot('catalogue');
  });

  it('filters by category', async () => {
    await page.getByRole('button', { name: 'Books' }).click();
    await expect.poll(async () => new Set(await cards().evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-category')))), { timeout: 10_000 }).toEqual(new Set(['BOOKS']));
    expect(await cards().count()).toBe(12);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => cards().count(), { timeout: 10_000 }).toBe(24);
  });

  it('opens a product: stock from inventory, rating and reviewers’ names from reviews and accounts', async () => {
    await page.getByRole('link', { name: 'Classic Novel' }).click();
    await expect.poll(() => page.getByTestId('product-name').innerText(), { timeout: 10_000 }).toBe('Classic Novel');
    expect(await page.getByTestId('stock').innerText()).toBe('100');
    expect(await page.getByTestId('rating').innerText()).toBe('3.5 / 5 (6 reviews)');
    await expect.poll(() => page.getByTestId('review-author').allInnerTexts(), { timeout: 10_000 }).toEqual(expect.arrayContaining(['Alan Hopper', 'Frances Dijkstra']));
    expect(await page.getByTestId('review').count()).toBe(5);
    await page.getByRole('button', { name: 'More reviews' }).click();
    await expect.poll(() => page.getByTestId('review').count(), { timeout: 10_000 }).toBe(6);
    await shot('product');
  });

  it('signs in as a seeded user and comes back to the product', async () => {
    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await page.getByLabel('Email').fill('user4@example.com');
    await page.getByLabel('Password').fill('commerce-dev');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signing in checks a password hash on purpose slowly: allow for a busy machine.
    await expect.poll(() => page.getByTestId('signed-in-as').innerText(), { timeout: 15_000 }).toBe('Signed in as Barbara Lovelace');
    await expect.poll(() => page.getByTestId('product-name').innerText(), { timeout: 10_000 }).toBe('Classic Novel');
  });

  it('places an order and watches it become CONFIRMED', async () => {
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect.poll(() => page.getByTestId('order-status').innerText(), { timeout: 15_000 }).toBe('CONFIRMED');
    await shot('confirmed');
  });

  it('places an order inventory cannot fill and sees it REJECTED with the reason', async () => {
    await page.goto(`${shop}#/product/10`);
    await expect.poll(() => page.getByTestId('stock').innerText(), { timeout: 10_000 }).toBe('0');
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect.poll(() => page.getByTestId('order-status').innerText(), { timeout: 15_000 }).toBe('REJECTED');
    expect(await page.getByTestId('order-reason').innerText()).toBe('INSUFFICIENT_STOCK: product 10 has 0 left, 1 asked');
    await shot('rejected');
  });

  it('lists both orders, newest first, under My orders', async () => {
    await page.getByRole('link', { name: 'My orders' }).click();
    await expect.poll(() => page.getByTestId('order-row-status').allInnerTexts(), { timeout: 10_000 }).toEqual(expect.arrayContaining(['REJECTED', 'CONFIRMED']));
    expect((await page.getByTestId('order-row-status').allInnerTexts()).slice(0, 2)).toEqual(['REJECTED', 'CONFIRMED']);
    await shot('orders');
  });

  it('refreshes the session before the access token expires, and carries on', async () => {
    type Stored = { refreshToken: string; expiresAt: number };
    const stored = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('commerce.session') ?? 'null') as Stored | null);
    const before = await stored();
    expect(before?.expiresAt).toBeGreaterThan(Date.now() + 60_000);
    // As if the tab had been open for almost a whole access-token lifetime.
    await page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem('commerce.session') ?? '{}') as Stored;
      sessionStorage.setItem('commerce.session', JSON.stringify({ ...session, expiresAt: Date.now() + 5_000 }));
    });
    await page.reload();
    await expect.poll(() => page.getByTestId('order-row-status').count(), { timeout: 10_000 }).toBeGreaterThan(1);
    const after = await stored();
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(after?.expiresAt).toBeGreaterThan(Date.now() + 60_000);
    expect(sent.some((body) => body.operationName === 'RefreshSession')).toBe(true);
  });

  it('sent only ids from the manifest, nothing beyond this machine, and saw no error or CSP refusal', () => {
    const manifest = parseManifest(JSON.parse(readFileSync(MANIFEST, 'utf8')));
    const ids = new Set(manifest.operations.map((o) => o.id));
    expect(sent.length).toBeGreaterThan(8);
    for (const body of sent) {
      expect(body.query).toBeUndefined();
      expect(ids.has(body.extensions?.persistedQuery?.sha256Hash ?? '')).toBe(true);
    }
    expect(browser.leftTheMachine).toEqual([]);
    expect(browser.problems).toEqual([]);
  });

  it('also works against a router that has no manifest: each operation is registered once, as an automatic persisted query', async () => {
    const plain = await graph.startRouter({ persistedOperations: undefined, storefront: { distDir: WEB_DIST } });
    try {
      const before = sent.length;
      const visitor = await browser.context.newPage();
      await visitor.goto(`${plain.url}/shop/#/product/2`);
      await expect.poll(() => visitor.getByTestId('review').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      await visitor.reload();
      await expect.poll(() => visitor.getByTestId('review').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      await visitor.close();
      const bodies = sent.slice(before).filter((body) => body.operationName === 'ProductDetails');
      // Hash alone (not found), hash with the text (registered), then hash alone (found) after the reload.
      expect(bodies.map((body) => typeof body.query)).toEqual(['undefined', 'string', 'undefined']);
    } finally {
      await plain.stop();
    }
  });

  it('is behind a router that refuses any operation not in the manifest, and runs the manifest’s', async () => {
    const post = (body: unknown) =>
      fetch(graph.router.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', origin: graph.router.url }, body: JSON.stringify(body) });
    const unknown = await post({ query: '{ users(first: 5) { nodes { name } } }' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(NOT_IN_SAFELIST);
    const body = parseManifest(JSON.parse(readFileSync(MANIFEST, 'utf8'))).operations.find((o) => o.name === 'ProductDetails')!.body;
    const known = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(body).digest('hex') } }, variables: { id: '2' } });
    expect(known.status).toBe(200);
  });
});
