// Everything a subgraph is built from. `core.ts` is the part servers without a database use.
export * from './core.ts';
export { loadEventEndpoints, loadSubgraphEnv } from './env.ts';
export * from './events/index.ts';
export type { SubgraphEnv } from './env.ts';
export { guardWrite, translateDatabaseError } from './errors.ts';
export { encodeCursor, encodeKeysetCursor, parseId, parseKeysetPage, parsePage, requireEmail, requireInt, requireText, toConnection, tryParseId } from './input.ts';
export type { Connection, Edge, KeysetPage, KeysetPosition, Page, PageArgs, PageBounds } from './input.ts';
export { byKeys, createKeysetPerKeyLoader, createLoader, createRowByKeyLoader, createRowListsByKeyLoader, createTopPerKeyLoader, groupByKeys, rowsAfterId, rowsOfKeys, runSql } from './loaders.ts';
export type { DataLoader, IdPageQuery, KeysetKey, KeysetPerKeyQuery, RowsByKeyQuery, RunSql, TopKey, TopPerKeyQuery } from './loaders.ts';
export { deleteInBatches, startPeriodic } from './periodic.ts';
export type { BatchLimits, Periodic, PeriodicTask } from './periodic.ts';
export { DateTime } from './scalars.ts';
export { randomInt, SEED, seedDate, seededRandom, seedProductPriceCents, seedUserEmail } from './seed.ts';
export { AUTH_DIRECTIVES, enforceAuthorization, signedInUserId } from './authorization.ts';
export type { OwnerOf, Owners } from './authorization.ts';
export { buildSubgraphApolloServer, DEFAULT_MAX_REPRESENTATIONS, eventsFromEnv, prepareDatabase, runSubgraph, seedDatabase, startSubgraph } from './subgraph.ts';
export type {
  PrismaLikeClient,
  RunningSubgraph,
  SeedableSubgraph,
  StartSubgraphOptions,
  SubgraphContext,
  SubgraphDefinition,
  SubgraphFactory,
  SubgraphRuntime,
} from './subgraph.ts';
