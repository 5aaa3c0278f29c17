import { postgresAdminUrl } from '@commerce/db/testing';
import { defineOrderFlowSuite } from './support/order-flow-suite.ts';
import { startSupergraph } from './support/supergraph.ts';

// The same order flow with each service on its own provisioned PostgreSQL database as its app
// role (real concurrency between relays, receivers and resolvers). Skipped without TEST_POSTGRES_ADMIN_URL.
defineOrderFlowSuite('placing orders, events over HTTP, PostgreSQL (TEST_POSTGRES_ADMIN_URL)', () => startSupergraph({ postgresAdminUrl }), {
  skip: !postgresAdminUrl,
});
