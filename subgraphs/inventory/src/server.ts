import type { SubgraphDefinition } from '@commerce/service-kit';
import { createContext, type Context } from './context.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { eventHandlers } from './events.ts';
import { resolvers } from './resolvers/index.ts';
import { seed } from './seed.ts';
import { snapshot } from './snapshot.ts';

export const inventory: SubgraphDefinition<PrismaClient, Context> = {
  name: 'inventory',
  defaultPort: 4003,
  schema: new URL('../schema.graphql', import.meta.url),
  migrations: new URL('../prisma/migrations/', import.meta.url),
  resolvers,
  createClient: (adapter) => new PrismaClient({ adapter }),
  createContext,
  seed,
  eventHandlers,
  snapshot,
};
