import { defineConfig } from 'prisma/config';

// The CLI reads this file; the service itself opens its database through @commerce/db.
// The URL only matters to `prisma migrate status/deploy` on a machine that has Prisma's engine.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.REVIEWS_DATABASE_URL ?? '' },
});
