import type { PrismaLikeClient, SubgraphDefinition, SubgraphFactory } from '@commerce/service-kit';

/**
 * Each subgraph as its package exports it, loaded on demand: a subgraph process loads only its own
 * client. accounts is a factory (its definition needs its token key, read from its environment);
 * the others are plain definitions.
 */
export const SUBGRAPH_LOADERS = {
  accounts: async () => (await import('@commerce/subgraph-accounts')).accounts,
  products: async () => (await import('@commerce/subgraph-products')).products,
  inventory: async () => (await import('@commerce/subgraph-inventory')).inventory,
  reviews: async () => (await import('@commerce/subgraph-reviews')).reviews,
  orders: async () => (await import('@commerce/subgraph-orders')).orders,
} as const;

export type ServiceName = keyof typeof SUBGRAPH_LOADERS;
export const SERVICE_NAMES = Object.keys(SUBGRAPH_LOADERS) as ServiceName[];
export type AnyDefinition = SubgraphDefinition<PrismaLikeClient, never>;
export type AnyService = AnyDefinition | SubgraphFactory<PrismaLikeClient, never>;

export const isServiceName = (name: string): name is ServiceName => name in SUBGRAPH_LOADERS;

/** A service's database, client and seed (what loading data needs), or its factory. */
export async function loadService(name: ServiceName): Promise<AnyService> {
  return (await SUBGRAPH_LOADERS[name]()) as unknown as AnyService;
}

/** The variable a subgraph and every gateway in front of it read its signing secret from (as the router names it). */
export const signingSecretVariable = (name: ServiceName) => `${name.toUpperCase()}_SIGNING_SECRET`;
