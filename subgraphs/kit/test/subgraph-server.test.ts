// What a subgraph's Apollo server gives out besides data: no inline traces (nobody consumes them,
// and they would describe the resolvers' timing to whoever asks), no landing page.
import { openPGlite, type PGliteDatabase } from '@commerce/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS, createLogger, identityHeaders, signatureHeaders, startSubgraph, type RunningSubgraph, type SubgraphDefinition, type Viewer } from '../src/index.ts';

const SECRET = 'a-signing-secret-of-at-least-32-characters';
const definition: SubgraphDefinition<{ $disconnect(): Promise<void> }, { viewer: Viewer }> = {
  name: 'notes',
  defaultPort: 0,
  schema: new URL('./fixtures/notes.graphql', import.meta.url),
  migrations: new URL('./fixtures/', import.meta.url),
  resolvers: { Query: { notes: () => [{ id: 1, text: 'hello', owner: 1 }] } },
  createClient: () => ({ $disconnect: async () => {} }),
  createContext: (_client, request) => ({ viewer: request.viewer }),
};

let database: PGliteDatabase;
let subgraph: RunningSubgraph<{ $disconnect(): Promise<void> }>;

beforeAll(async () => {
  database = await openPGlite({ service: 'notes', kind: 'pglite' });
  subgraph = await startSubgraph(definition, { database, signingSecret: SECRET, logger: createLogger('notes', 'silent') });
});
afterAll(async () => {
  await subgraph?.stop();
  await database?.close();
});

describe('a subgraph server', () => {
  it('answers a request for an inline trace (ftv1) without one', async () => {
    const body = JSON.stringify({ query: '{ notes { id text } }' });
    const headers = { ...identityHeaders({ viewer: ANONYMOUS, requestId: 'trace-1', clientIp: null }), 'apollo-federation-include-trace': 'ftv1' };
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...signatureHeaders(SECRET, { method: 'POST', path: '/graphql', headers, body }) },
      body,
    });
    expect(await response.json()).toEqual({ data: { notes: [{ id: '1', text: 'hello' }] } });
  });

  it('serves no landing page, even to a signed request from a browser', async () => {
    const headers = identityHeaders({ viewer: ANONYMOUS, requestId: 'page-1', clientIp: null });
    const response = await fetch(subgraph.url, { headers: { accept: 'text/html', ...headers, ...signatureHeaders(SECRET, { method: 'GET', path: '/graphql', headers, body: '' }) } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).not.toMatch(/html/);
    expect(await response.text()).not.toMatch(/<html|apollographql|sandbox/i);
  });
});
