// Stock @apollo/gateway with default settings: the supergraph SDL (its routing URLs pointed at the
// running subgraphs), the gateway's own default data source and fetcher, a plain ApolloServer.
// Served through the same HTTP layer as our router (the kit's createHttpHandler/listen), so the
// gateway is the only difference. Argument: <path of the supergraph SDL with URLs rewritten>.
import { readFile } from 'node:fs/promises';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createHttpHandler, createLogger, listen } from '@commerce/service-kit';
import { send, serveCounters, startChild } from '../ipc.ts';

await startChild(async () => {
  const [supergraphPath] = process.argv.slice(2);
  if (!supergraphPath) throw new Error('usage: apollo-gateway.ts <supergraph path>');
  const gateway = new ApolloGateway({ supergraphSdl: await readFile(supergraphPath, 'utf8') });
  const apollo = new ApolloServer({ gateway });
  await apollo.start();
  const handler = createHttpHandler({ apollo, logger: createLogger('apollo-gateway', 'error'), context: async () => ({}) });
  const running = await listen(handler, { host: '127.0.0.1', port: 0 });
  serveCounters({ requests: 0, statements: 0 }, async () => {
    await running.close();
    await apollo.stop();
  });
  send({ type: 'ready', url: `${running.url}/graphql` });
});
