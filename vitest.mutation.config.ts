import { defineConfig } from 'vitest/config';
import shared from './vitest.shared.ts';

/**
 * The tests `npm run test:mutation` (StrykerJS, stryker.config.mjs) runs against each mutant: for
 * every mutated module, the tests of its own package that import it directly (Stryker's sandbox
 * links the workspace packages back to the unmutated originals, so a router test never sees a
 * mutated kit). Tests that only start child processes, need Redis/NATS, or time whole order flows
 * are left out: they cannot see a mutant, or cost minutes per mutant.
 */
const project = (name: string, root: string, include: string[]) => ({
  resolve: shared.resolve,
  test: { ...shared.test, name, root, include },
});

const projects = [
  project('kit', './subgraphs/kit', [
    'test/kit.test.ts',
    'test/errors.test.ts',
    'test/error-masking.test.ts',
    'test/input.test.ts',
    'test/loaders.test.ts',
    'test/connections.test.ts',
    'test/http.test.ts',
    'test/html-page.test.ts',
    'test/security.test.ts',
    'test/identity.test.ts',
    'test/signing.test.ts',
    'test/authorization.test.ts',
  ]),
  project('db', './prisma', ['test/migrate.test.ts', 'test/migrate-refusals.test.ts', 'test/migrate-transactions.test.ts']),
  project('provision', './prisma', ['test/postgres-passwords.test.ts']),
  project('router', './router', ['test/fetcher.test.ts', 'test/operation-limits.test.ts', 'test/auth.test.ts', 'test/error-masking.test.ts', 'test/response-hygiene.test.ts']),
  project('accounts', './subgraphs/accounts', ['test/entities-key-order.test.ts', 'test/accounts.test.ts']),
  project('products', './subgraphs/products', ['test/entities-key-order.test.ts', 'test/products.test.ts']),
  project('inventory', './subgraphs/inventory', ['test/entities-key-order.test.ts', 'test/inventory.test.ts']),
  project('reviews', './subgraphs/reviews', ['test/entities-key-order.test.ts', 'test/reviews.test.ts', 'test/add-review.test.ts', 'test/reviews-connection.test.ts']),
  project('orders', './subgraphs/orders', ['test/entities-key-order.test.ts', 'test/orders.test.ts', 'test/orders-connection.test.ts']),
];

// stryker.config.mjs sets MUTATION_PROJECTS to the projects of the groups it mutates.
const selected = process.env.MUTATION_PROJECTS?.split(',').filter(Boolean);

export default defineConfig({
  resolve: shared.resolve,
  test: { projects: selected ? projects.filter((p) => selected.includes(p.test.name)) : projects },
});
