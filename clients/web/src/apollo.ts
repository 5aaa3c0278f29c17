import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { SetContextLink } from '@apollo/client/link/context';
import { ErrorLink } from '@apollo/client/link/error';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';
import type { DocumentNode } from 'graphql';
import { from, switchMap } from 'rxjs';
import { GRAPHQL_URL } from './config.ts';
import { RefreshSessionDocument } from './generated/graphql/graphql.ts';
import { session } from './session.ts';

declare module '@apollo/client' {
  interface DefaultContext {
    /** Send without the user's token and never refresh for it (the refresh itself). */
    anonymous?: boolean;
    /** Set on the one retry after a refused token, so a second refusal is final. */
    retriedAfterRefresh?: boolean;
  }
}

/**
 * The cache. Every entity has `id` + `__typename` (the operations select __typename everywhere),
 * so Product:7, User:3 and Order:120 are each stored once, and whatever query brought a field
 * in, every component showing that object sees the newest value: the order status that
 * OrderStatus polls is the status My orders shows.
 *
 * Connections page Relay-style: relayStylePagination() merges the `edges` of each page into one
 * list per key (products per category; reviews per product; orders per user), so "Load more" is
 * fetchMore({ variables: { after: endCursor } }) and the page shows every page fetched so far.
 */
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          products: relayStylePagination(['category']),
          // Cache redirects: a product or order already in the cache is found by id before any request.
          product: { read: (existing, { args, toReference }) => existing ?? (args?.id ? toReference({ __typename: 'Product', id: args.id }) : undefined) },
          order: { read: (existing, { args, toReference }) => existing ?? (args?.id ? toReference({ __typename: 'Order', id: args.id }) : undefined) },
        },
      },
      Product: { fields: { reviewsConnection: relayStylePagination() } },
      User: { fields: { ordersConnection: relayStylePagination(), reviewsConnection: relayStylePagination() } },
    },
  });
}

/** The id of a generated document: the client preset's persisted-document hash (its manifest id). */
function operationId(document: DocumentNode): string {
  const id = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
  if (!id) throw new Error('This operation is not from src/**/*.graphql (no persisted id): add it there and run `npm run generate -w @commerce/web`.');
  return id;
}

export function createClient(uri = GRAPHQL_URL): ApolloClient {
  // The user's token on every request but the refresh itself; refreshed first when about to expire.
  const auth = new SetContextLink(async (context) => {
    if (context.anonymous) return {};
    const token = await session.accessToken();
    return token ? { headers: { ...context.headers, authorization: `Bearer ${token}` } } : {};
  });

  // A token refused anyway (revoked, clock skew): refresh once and retry once; else signed out.
  const refusedToken = new ErrorLink(({ error, operation, forward }) => {
    const context = operation.getContext();
    if (!ServerError.is(error) || error.statusCode !== 401 || context.anonymous || context.retriedAfterRefresh || !session.get()) return;
    operation.setContext({ retriedAfterRefresh: true });
    return from(session.refresh()).pipe(switchMap(() => forward(operation)));
  });

  // Only ids travel: the router resolves them from its manifest (safelist mode runs nothing
  // else). A router that does not know an id answers PERSISTED_QUERY_NOT_FOUND and the link sends
  // the text once, printed exactly as the manifest holds it, so the id is its SHA-256 and the
  // router registers it as an automatic persisted query.
  const persisted = new PersistedQueryLink({ generateHash: operationId });
  const http = new HttpLink({ uri, print: (ast) => printExecutableGraphQLDocument(ast as DocumentNode) });

  const client = new ApolloClient({
    link: ApolloLink.from([refusedToken, auth, persisted, http]),
    cache: createCache(),
  });

  session.useRefresher(async (refreshToken) => {
    const result = await client.mutate({ mutation: RefreshSessionDocument, variables: { refreshToken }, context: { anonymous: true }, fetchPolicy: 'no-cache' });
    if (!result.data) throw new Error('refreshSession answered no tokens');
    return result.data.refreshSession;
  });
  return client;
}

/** What to tell the user about a failed operation: the server's own message where there is one. */
export function describeError(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) return error.errors.map((e) => e.message).join('; ');
  if (ServerError.is(error)) {
    try {
      const body = JSON.parse(error.bodyText) as { errors?: { message?: string; extensions?: { code?: string } }[] };
      const first = body.errors?.[0];
      if (first?.message) return first.extensions?.code ? `${first.message} (${first.extensions.code})` : first.message;
    } catch {
      // not JSON: fall through to the status
    }
    return `The shop is not answering properly (HTTP ${error.statusCode}).`;
  }
  return error instanceof Error ? error.message : String(error);
}
