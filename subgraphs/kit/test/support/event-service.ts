import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLogger,
  httpTransport,
  startServiceEvents,
  subscriptionsOf,
  type EventClient,
  type EventHandlers,
  type EventsOptions,
  type ServiceEvents,
  type ServiceHooks,
} from '../../src/index.ts';

export interface EventServiceOptions {
  /** This service's events secret (its internal routes verify every call with it). */
  secret: string;
  /** Handlers by `source.Type`; every subscribed type without one gets a no-op handler. */
  handlers?: EventHandlers;
  hooks?: ServiceHooks;
  transport?: EventsOptions['transport'];
  maxAttempts?: number;
  relay?: EventsOptions['relay'];
}

/**
 * One service's part of the event backbone (relay, receiver, internal routes) behind a plain
 * node:http server on an ephemeral port, without any GraphQL: what an operator's command or a
 * publisher's relay talks to. `url` is the base URL a subgraph would have (…/graphql).
 */
export async function startEventService(service: string, db: EventClient, options: EventServiceOptions) {
  const handlers: EventHandlers = {
    ...Object.fromEntries(subscriptionsOf(service).map((type) => [type, async () => {}])),
    ...options.handlers,
  };
  const events: ServiceEvents = await startServiceEvents(
    service,
    db,
    handlers,
    {
      transport: options.transport ?? httpTransport({ endpoints: new Map(), secrets: new Map() }),
      secret: options.secret,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.relay ? { relay: options.relay } : {}),
    },
    createLogger(service, 'silent'),
    options.hooks ?? {},
  );
  const server = createServer((request, response) => {
    const route = events.internalRoutes[new URL(request.url ?? '/', 'http://x').pathname];
    if (route) void route(request, response, 'test');
    else response.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"message":"Not found"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    events,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      await events.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
