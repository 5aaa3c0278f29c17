import type { SubgraphDefinition } from '@commerce/service-kit';
import { createContext, type Context } from './context.ts';
import { PrismaClient, type Order } from './generated/prisma/client.ts';
import type { UserRef } from './models.ts';
import { eventHandlers } from './events.ts';
import { resolvers } from './resolvers/index.ts';
import { seed } from './seed.ts';
import { snapshot } from './snapshot.ts';

export const orders: SubgraphDefinition<PrismaClient, Context> = {
  name: 'orders',
  defaultPort: 4005,
  schema: new URL('../schema.graphql', import.meta.url),
  migrations: new URL('../prisma/migrations/', import.meta.url),
  resolvers,
  createClient: (adapter) => new PrismaClient({ adapter }),
  createContext,
  // @ownerOrScope: an order belongs to the user who placed it; a user's order list to that user.
  owners: { Order: (order: Order) => order.userId, User: (user: UserRef) => user.id },
  seed,
  eventHandlers,
  snapshot,
};
