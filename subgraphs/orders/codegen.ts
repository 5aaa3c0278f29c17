import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from the SDL; entity parents are the Prisma models (mappers), and User, which
// accounts owns, is only its id here.
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
          Order: './prisma/client.ts#Order as OrderModel',
          OrderItem: './prisma/client.ts#OrderItem as OrderItemModel',
          User: '../models.ts#UserRef',
        },
        scalars: { DateTime: 'Date' },
      },
    },
  },
};
export default config;
