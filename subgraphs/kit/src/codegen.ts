import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The one codegen setup every subgraph uses: resolver types from its `schema.graphql`, with
 * federation's `__resolveReference`, enums as string unions (Node strips types; TS enums would not
 * run), and `mappers` naming the parent type of each entity (a Prisma model, or a small local type
 * for an entity another service owns). Paths in `mappers` are relative to src/generated/.
 */
export function subgraphCodegen(mappers: Record<string, string>): CodegenConfig {
  return {
    schema: 'schema.graphql',
    generates: {
      'src/generated/graphql.ts': {
        plugins: ['typescript', 'typescript-resolvers'],
        config: {
          federation: true,
          useTypeImports: true,
          enumsAsTypes: true,
          contextType: '../context.ts#Context',
          mappers,
          scalars: { DateTime: 'Date' },
        },
      },
    },
  };
}
