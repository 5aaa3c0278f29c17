import { DateTime } from '@commerce/service-kit';
import type { Resolvers } from '../generated/graphql.ts';
import { Mutation } from './Mutation.ts';
import { Product } from './Product.ts';
import { Query } from './Query.ts';
import { Review } from './Review.ts';
import { User } from './User.ts';

export const resolvers: Resolvers = { DateTime, Query, Mutation, Review, User, Product };
