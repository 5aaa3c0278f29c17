import { defineConfig } from 'prisma/config';

// The CLI reads this file only for `prisma generate` (npm run generate); the benchmark creates,
// migrates and drops the monolith's database itself through @commerce/db.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.MONOLITH_DATABASE_URL ?? '' },
});
