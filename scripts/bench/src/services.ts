import type { PrismaLikeClient, SubgraphDefinition } from '@commerce/service-kit';

/** Each subgraph's definition, loaded on demand: a subgraph process loads only its own client. */
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

export const isServiceName = (name: string): name is ServiceName => name in SUBGRAPH_LOADERS;

export async function loadDefinition(name: ServiceName): Promise<AnyDefinition> {
  return (await SUBGRAPH_LOADERS[name]()) as unknown as AnyDefinition;
}
