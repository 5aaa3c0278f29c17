import { describe, expect, it } from 'vitest';
import { loadRouterEnv } from '../src/env.ts';

/**
 * The README's Configuration table, the router's rows: what the router runs with when a variable
 * is unset (development, and production where the table says they differ). env.test.ts covers the
 * rules (overrides, CORS, secrets, problems reported at once); this file holds the defaults to the
 * table, so a changed default fails here until the README says it too.
 */
describe('the router’s defaults, as the README’s Configuration table gives them', () => {
  it('in development', () => {
    const env = loadRouterEnv([], {});
    expect(env).toMatchObject({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 4000,
      logLevel: 'info',
      subgraphTimeoutMs: 10_000,
      subgraphMaxSockets: 128,
      coalesceSubgraphQueries: false,
      mergeSubgraphFetches: true,
      workers: 1,
      corsOrigins: '*',
      corsCredentials: false,
      maxBodyBytes: 1_048_576,
      http: { maxHeaderBytes: 16_384, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, shutdownGraceMs: 10_000 },
      trustProxyHops: 0,
      introspection: true,
      ide: true,
      persistedOperations: null,
      webDist: null,
      auth: {
        issuer: 'commerce-accounts',
        audience: 'commerce-supergraph',
        algorithms: ['EdDSA', 'ES256', 'RS256', 'PS256'],
        clockToleranceSeconds: 30,
        userIdClaim: 'sub',
        scopesClaim: 'scope',
      },
      rateLimits: { userPerMinute: 1_200, ipPerMinute: 600 },
      limits: {
        maxDepth: 12,
        maxAliases: 30,
        maxDirectives: 50,
        maxTokens: 5_000,
        maxRootFields: 20,
        maxMutationRootFields: 5,
        maxFields: 500,
        maxNodes: 10_000,
      },
      resilience: { retries: 2, breakerFailures: 5, breakerHalfOpenMs: 5_000 },
    });
    expect(env.redisUrl).toBeUndefined();
  });

  it('in production: no browser origin, no introspection, no IDE unless asked for', () => {
    expect(loadRouterEnv([], { NODE_ENV: 'production' })).toMatchObject({ corsOrigins: [], introspection: false, ide: false });
    expect(loadRouterEnv([], { NODE_ENV: 'production', INTROSPECTION: 'true', IDE: 'true' })).toMatchObject({ introspection: true, ide: true });
  });

  it('takes the persisted-operations mode apq unless told safelist', () => {
    expect(loadRouterEnv([], { PERSISTED_OPERATIONS: 'manifest.json' }).persistedOperations).toEqual({ path: 'manifest.json', mode: 'apq' });
  });
});
