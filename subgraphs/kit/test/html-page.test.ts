/**
 * The HTTP layer's `htmlPage`: a page for browsers at the GraphQL path (the router's IDE), chosen
 * by the Accept header the way Apollo Server chooses its landing page; everything else there
 * still reaches Apollo.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler, createLogger, listen, type RunningServer } from '../src/index.ts';
import { prefersHtml } from '../src/http.ts';

const CHROME = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const FIREFOX = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('prefersHtml', () => {
  it('is true for browsers navigating', () => {
    expect(prefersHtml(CHROME)).toBe(true);
    expect(prefersHtml(FIREFOX)).toBe(true);
    expect(prefersHtml('text/html')).toBe(true);
    expect(prefersHtml('text/*, application/json;q=0.5')).toBe(true);
    expect(prefersHtml('application/json;q=0.5, TEXT/HTML')).toBe(true);
    // Equal quality and specificity: the earlier one wins, as in Apollo's negotiation.
    expect(prefersHtml('text/html, application/json')).toBe(true);
  });

  it('is false for API clients, any type, and ties', () => {
    for (const accept of [
      undefined,
      '',
      '*/*',
      'application/json',
      'application/graphql-response+json, application/json;q=0.9',
      // GraphiQL's own fetcher
      'application/json, multipart/mixed',
      'text/html;q=0.5, application/json',
      'application/json, text/html',
      'multipart/mixed, text/html',
      'text/html;q=0',
      'text/*, application/json',
      'image/png',
    ]) {
      expect(prefersHtml(accept), String(accept)).toBe(false);
    }
  });
});

describe('htmlPage at the GraphQL path', () => {
  let server: RunningServer;
  let plain: RunningServer;
  const calls: string[] = [];

  beforeAll(async () => {
    const start = async (withPage: boolean) => {
      const apollo = new ApolloServer({
        typeDefs: 'type Query { hello: String }',
        resolvers: { Query: { hello: () => 'world' } },
        plugins: [ApolloServerPluginLandingPageDisabled()],
      });
      await apollo.start();
      const handler = createHttpHandler({
        apollo,
        logger: createLogger('test', 'silent'),
        context: async () => ({}),
        ...(withPage
          ? {
              htmlPage: (request: IncomingMessage, response: ServerResponse) => {
                calls.push(request.method ?? '');
                response.setHeader('content-security-policy', "default-src 'self'");
                response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>IDE</title>');
              },
            }
          : {}),
      });
      return listen(handler, { host: '127.0.0.1', port: 0 });
    };
    [server, plain] = await Promise.all([start(true), start(false)]);
  });
  afterAll(async () => {
    await server?.close();
    await plain?.close();
  });

  it('answers a browser GET (and HEAD) with the page, with the layer’s headers and its own CSP', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: CHROME, 'x-request-id': 'page-1' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('<title>IDE</title>');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-request-id')).toBe('page-1');
    const head = await fetch(`${server.url}/graphql?query=%7Bhello%7D`, { method: 'HEAD', headers: { accept: FIREFOX } });
    expect(head.status).toBe(200);
    expect(calls).toEqual(['GET', 'HEAD']);
  });

  it('leaves API requests to Apollo: POST, JSON or any type, and other paths', async () => {
    calls.length = 0;
    const post = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: CHROME }, body: '{"query":"{ hello }"}' });
    expect(await post.json()).toEqual({ data: { hello: 'world' } });
    for (const accept of ['application/json', '*/*']) {
      const get = await fetch(`${server.url}/graphql?query=%7Bhello%7D`, { headers: { accept, 'apollo-require-preflight': 'true' } });
      expect(await get.json(), accept).toEqual({ data: { hello: 'world' } });
    }
    expect((await fetch(`${server.url}/other`, { headers: { accept: CHROME } })).status).toBe(404);
    expect(calls).toEqual([]);
  });

  it('without htmlPage, a browser at the GraphQL path gets Apollo’s answer', async () => {
    const response = await fetch(`${plain.url}/graphql`, { headers: { accept: CHROME } });
    expect(response.headers.get('content-type')).toMatch(/json/);
    expect(response.status).toBe(400);
  });
});
