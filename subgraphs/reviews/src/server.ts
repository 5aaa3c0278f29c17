import type { SubgraphDefinition } from '@commerce/service-kit';
import { eventHandlers, snapshot } from './catalog.ts';
import { createContext, type Context } from './context.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { resolvers } from './resolvers/index.ts';
import { seed } from './seed.ts';

export const reviews: SubgraphDefinition<PrismaClient, Context> = {
  name: 'reviews',
  defaultPort: 4004,
  schema: new URL('../schema.graphql', import.meta.url),
  migrations: new URL('../prisma/migrations/', import.meta.url),
  resolvers,
  createClient: (adapter) => new PrismaClient({ adapter }),
  createContext,
  seed,
  eventHandlers,
  snapshot,
};
