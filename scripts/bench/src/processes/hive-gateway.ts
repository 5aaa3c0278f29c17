// Hive Gateway (@graphql-hive/gateway's programmatic runtime) on node:http, with the supergraph
// SDL whose routing URLs point at the running subgraphs. Its in-flight de-duplication of
// identical subgraph requests is turned off (deduplicateInflightRequests: false on every
// transport; the inbound one is off by default), so every client request does its own work, as
// it does on the other systems. Everything else is default, plus what any deployment in front of
// these subgraphs needs (gateway-glue.ts): one plugin whose onFetch adds a fixed admin identity
// and signs the request over its final body. It verifies no token.
// Argument: <supergraph path>; secrets: <NAME>_SIGNING_SECRET.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway';
import { adminIdentityHeaders, signedHeaders, subgraphSecrets } from '../gateway-glue.ts';
import { send, serveCounters, startChild } from '../ipc.ts';

/** Runs after Hive's own onFetch hooks (plugins given here come after its built-in ones), so it signs what is sent. */
function signSubgraphRequests(secretOf: (url: string) => string): GatewayPlugin {
  return {
    onFetch({ url, options, setOptions }) {
      const secret = secretOf(url);
      // Hive's request-id plugin has already forwarded the client's x-request-id.
      const headers = { ...options.headers, ...adminIdentityHeaders(options.headers?.['x-request-id'] ?? '') };
      setOptions({ ...options, headers: signedHeaders(secret, url, { ...options, headers }) });
    },
  };
}

await startChild(async () => {
  const [supergraphPath] = process.argv.slice(2);
  if (!supergraphPath) throw new Error('usage: hive-gateway.ts <supergraph path>');
  const supergraph = await readFile(supergraphPath, 'utf8');
  const secretOf = subgraphSecrets(supergraph);
  const gateway = createGatewayRuntime({
    supergraph,
    logging: 'error',
    transportEntries: { '*': { options: { deduplicateInflightRequests: false } } },
    plugins: () => [signSubgraphRequests(secretOf)],
  });
  const server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  serveCounters({ requests: 0, statements: 0 }, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.dispose();
  });
  send({ type: 'ready', url: `http://127.0.0.1:${port}/graphql` });
});
