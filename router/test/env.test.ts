import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SUPERGRAPH, loadRouterEnv, missingSigningSecrets, overrideVariable } from '../src/env.ts';
import { resolveEndpoints } from '../src/router.ts';

const SDL = `enum join__Graph {
  ACCOUNTS @join__graph(name: "accounts", url: "http://localhost:4001/graphql")
  SHIPPING_V2 @join__graph(name: "shipping-v2", url: "http://localhost:4009/graphql")
}`;

describe('router configuration', () => {
  it('serves the committed supergraph by default, SUPERGRAPH_PATH over that, a command-line path over both', () => {
    expect(loadRouterEnv([], {}).supergraphPath).toBe(DEFAULT_SUPERGRAPH);
    expect(loadRouterEnv([], { SUPERGRAPH_PATH: '/a.graphql' }).supergraphPath).toBe('/a.graphql');
    expect(loadRouterEnv(['/b.graphql'], { SUPERGRAPH_PATH: '/a.graphql' }).supergraphPath).toBe('/b.graphql');
  });

  it('overrides one subgraph URL by SUBGRAPH_<NAME>_URL and keeps the others', () => {
    expect(overrideVariable('shipping-v2')).toBe('SUBGRAPH_SHIPPING_V2_URL');
    const env = loadRouterEnv([], { SUBGRAPH_SHIPPING_V2_URL: 'http://10.1.2.3:8080/graphql' });
    expect(resolveEndpoints(SDL, env.overrides)).toEqual([
      { name: 'accounts', url: 'http://localhost:4001/graphql' },
      { name: 'shipping-v2', url: 'http://10.1.2.3:8080/graphql' },
    ]);
  });

  it('allows any browser origin in development and none in production unless CORS_ORIGINS says so', () => {
    expect(loadRouterEnv([], {}).corsOrigins).toBe('*');
    expect(loadRouterEnv([], { NODE_ENV: 'production' }).corsOrigins).toEqual([]);
    expect(loadRouterEnv([], { NODE_ENV: 'production', CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });

  it('reports every problem at once', () => {
    expect(() => loadRouterEnv([], { ROUTER_PORT: '-1', SUBGRAPH_ORDERS_URL: 'nope', SUBGRAPH_TIMEOUT_MS: '5' })).toThrow(
      /ROUTER_PORT[\s\S]*SUBGRAPH_TIMEOUT_MS[\s\S]*SUBGRAPH_ORDERS_URL: must be an http\(s\) URL/,
    );
  });

  it('needs a signing secret per subgraph, long enough, and never prints one', () => {
    const env = loadRouterEnv([], { ACCOUNTS_SIGNING_SECRET: 'x'.repeat(40) });
    expect(missingSigningSecrets(['accounts', 'shipping-v2'], env.signingSecrets)).toEqual(['SHIPPING_V2_SIGNING_SECRET']);
    let message = '';
    try {
      loadRouterEnv([], { ORDERS_SIGNING_SECRET: 'tooshort-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('ORDERS_SIGNING_SECRET: must be at least 32 characters (got 15 characters)');
    expect(message).not.toContain('tooshort-secret');
  });

  it('accepts only asymmetric token algorithms, and no credentials with any origin', () => {
    expect(() => loadRouterEnv([], { AUTH_ALGORITHMS: 'EdDSA,HS256' })).toThrow(/AUTH_ALGORITHMS: only asymmetric/);
    expect(() => loadRouterEnv([], { AUTH_ALGORITHMS: 'none' })).toThrow(/AUTH_ALGORITHMS/);
    expect(() => loadRouterEnv([], { CORS_ORIGINS: '*', CORS_CREDENTIALS: 'true' })).toThrow(/CORS_CREDENTIALS/);
    expect(loadRouterEnv([], { AUTH_ALGORITHMS: 'ES256, RS256' }).auth.algorithms).toEqual(['ES256', 'RS256']);
  });

  it('turns the entity cache on only with an invalidation source, and refuses it where it would go stale', () => {
    const secret = 'e'.repeat(40);
    expect(loadRouterEnv([], {}).entityCache).toBeNull();
    expect(loadRouterEnv([], { ROUTER_EVENTS_SECRET: secret }).entityCache).toEqual({ maxBytes: 128 * 1024 * 1024, eventsSecret: secret });
    expect(loadRouterEnv([], { NATS_URL: 'nats://127.0.0.1:4222', ENTITY_CACHE_MAX_MB: '16' }).entityCache).toEqual({ maxBytes: 16 * 1024 * 1024, natsUrl: 'nats://127.0.0.1:4222' });
    expect(() => loadRouterEnv([], { ROUTER_EVENTS_SECRET: secret, ENTITY_CACHE_MAX_ENTRIES: '1000' })).toThrow(/ENTITY_CACHE_MAX_ENTRIES: replaced by ENTITY_CACHE_MAX_MB/);
    expect(loadRouterEnv([], { ROUTER_EVENTS_SECRET: secret, ENTITY_CACHE: 'off' }).entityCache).toBeNull();
    expect(() => loadRouterEnv([], { ENTITY_CACHE: 'on' })).toThrow(/ENTITY_CACHE: on needs an invalidation source: ROUTER_EVENTS_SECRET .* or NATS_URL/);
    expect(() => loadRouterEnv([], { ROUTER_EVENTS_SECRET: 'short' })).toThrow(/ROUTER_EVENTS_SECRET: must be at least 32 characters/);
    expect(() => loadRouterEnv([], { ROUTER_EVENTS_SECRET: secret, ROUTER_WORKERS: '2' })).toThrow(/ROUTER_WORKERS: several workers with the entity cache in memory need REDIS_URL/);
    expect(loadRouterEnv([], { ROUTER_EVENTS_SECRET: secret, ROUTER_WORKERS: '2', REDIS_URL: 'redis://127.0.0.1:6379' }).entityCache).not.toBeNull();
  });

  it('turns introspection off in production unless INTROSPECTION says otherwise', () => {
    expect(loadRouterEnv([], {}).introspection).toBe(true);
    expect(loadRouterEnv([], { NODE_ENV: 'production' }).introspection).toBe(false);
    expect(loadRouterEnv([], { NODE_ENV: 'production', INTROSPECTION: 'true' }).introspection).toBe(true);
  });

  it('refuses to start a production router without its secrets, naming each one', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const run = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH, NODE_ENV: 'production', ROUTER_PORT: '0' }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    const output = `${run.stdout}${run.stderr}`;
    for (const name of ['ACCOUNTS', 'PRODUCTS', 'INVENTORY', 'REVIEWS', 'ORDERS']) expect(output).toContain(`${name}_SIGNING_SECRET: is required`);
    expect(output).not.toMatch(/at .*\.ts:\d+/);
  });
});

