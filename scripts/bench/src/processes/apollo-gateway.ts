// Stock @apollo/gateway with default settings: the supergraph SDL (its routing URLs pointed at the
// running subgraphs), the gateway's own RemoteGraphQLDataSource and default fetcher, a plain
// ApolloServer. Served through the same HTTP layer as our router (the kit's
// createHttpHandler/listen), so the gateway is the only difference.
// The one addition is what any deployment in front of these subgraphs needs (gateway-glue.ts): a
// data source that sends a fixed admin identity and signs each request over the body it sends,
// by wrapping the gateway's own make-fetch-happen fetcher. It verifies no token.
// Argument: <path of the supergraph SDL with URLs rewritten>; secrets: <NAME>_SIGNING_SECRET.
import { readFile } from 'node:fs/promises';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { createHttpHandler, createLogger, listen, type BasicRequestInfo } from '@commerce/service-kit/core';
import { adminIdentityHeaders, signedHeaders, subgraphSecrets } from '../gateway-glue.ts';
import { send, serveCounters, startChild } from '../ipc.ts';

class SignedDataSource extends RemoteGraphQLDataSource<BasicRequestInfo> {
  constructor(url: string, secret: string) {
    super({ url });
    // The fetcher RemoteGraphQLDataSource made for itself (make-fetch-happen, its defaults), still
    // the one that sends; only the signature headers are added, over the exact body.
    const stock = this.fetcher;
    this.fetcher = (target, init = {}) => stock(target, { ...init, headers: signedHeaders(secret, target, init) });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<BasicRequestInfo>): void {
    for (const [name, value] of Object.entries(adminIdentityHeaders(context?.requestId ?? ''))) request.http?.headers.set(name, value);
  }
}

await startChild(async () => {
  const [supergraphPath] = process.argv.slice(2);
  if (!supergraphPath) throw new Error('usage: apollo-gateway.ts <supergraph path>');
  const supergraphSdl = await readFile(supergraphPath, 'utf8');
  const secretOf = subgraphSecrets(supergraphSdl);
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url = '' }) => new SignedDataSource(url, secretOf(url)),
  });
  const apollo = new ApolloServer<BasicRequestInfo>({ gateway });
  await apollo.start();
  // The context is what the kit's HTTP layer knows of the request (its request id, the client's address).
  const handler = createHttpHandler({ apollo, logger: createLogger('apollo-gateway', 'error'), context: async (info) => info });
  const running = await listen(handler, { host: '127.0.0.1', port: 0 });
  serveCounters({ requests: 0, statements: 0 }, async () => {
    await running.close();
    await apollo.stop();
  });
  send({ type: 'ready', url: `${running.url}/graphql` });
});
