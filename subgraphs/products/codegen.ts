import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from the SDL; entity parents are the Prisma models (mappers).
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
        mappers: { Product: './prisma/client.ts#Product as ProductModel' },
      },
    },
  },
};
export default config;
