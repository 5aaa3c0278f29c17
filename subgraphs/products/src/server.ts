import type { SubgraphDefinition } from '@commerce/service-kit';
import { createContext, type Context } from './context.ts';
import { backfill, snapshot } from './events.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { resolvers } from './resolvers/index.ts';
import { seed } from './seed.ts';

export const products: SubgraphDefinition<PrismaClient, Context> = {
  name: 'products',
  defaultPort: 4002,
  schema: new URL('../schema.graphql', import.meta.url),
  migrations: new URL('../prisma/migrations/', import.meta.url),
  resolvers,
  createClient: (adapter) => new PrismaClient({ adapter }),
  createContext,
  seed,
  // products publishes (ProductCreated, ProductPriceChanged, ProductSnapshot) and subscribes to nothing.
  backfill,
  snapshot,
};
