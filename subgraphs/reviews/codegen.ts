import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from the SDL. Review's parent is the Prisma model; User and Product are stubs
// owned by other services, so their parents are the small id-only types in src/models.ts.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        useTypeImports: true,
        enumsAsTypes: true,
        contextType: '../context.ts#Context',
        mappers: {
          Review: './prisma/client.ts#Review as ReviewModel',
          User: '../models.ts#UserRef',
          Product: '../models.ts#ProductRef',
        },
        scalars: { DateTime: 'Date' },
      },
    },
  },
};
export default config;
