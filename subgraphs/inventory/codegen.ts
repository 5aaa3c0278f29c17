import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from the SDL. Product is not stored here: its parent is the small reference
// type the router's representation becomes (src/models.ts).
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
        mappers: { Product: '../models.ts#ProductRef' },
      },
    },
  },
};
export default config;
