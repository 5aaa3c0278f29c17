import { describe, expect, it } from 'vitest';
import { DEFAULT_SUPERGRAPH, loadRouterEnv, overrideVariable } from '../src/env.ts';
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
});
