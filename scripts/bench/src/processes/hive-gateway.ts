// Hive Gateway (@graphql-hive/gateway's programmatic runtime) on node:http, with the supergraph
// SDL whose routing URLs point at the running subgraphs. Its in-flight de-duplication of
// identical subgraph requests is turned off (deduplicateInflightRequests: false on every
// transport; the inbound one is off by default), so every client request does its own work, as
// it does on the other systems. Everything else is default. Argument: <supergraph path>.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway';
import { send, serveCounters, startChild } from '../ipc.ts';

await startChild(async () => {
  const [supergraphPath] = process.argv.slice(2);
  if (!supergraphPath) throw new Error('usage: hive-gateway.ts <supergraph path>');
  const gateway = createGatewayRuntime({
    supergraph: await readFile(supergraphPath, 'utf8'),
    logging: 'error',
    transportEntries: { '*': { options: { deduplicateInflightRequests: false } } },
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
