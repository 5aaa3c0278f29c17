import type { Resolvers } from '../generated/graphql.ts';
import { Mutation } from './Mutation.ts';
import { Product } from './Product.ts';

export const resolvers: Resolvers = { Mutation, Product };
