import { defineOrderFlowSuite } from './support/order-flow-suite.ts';
import { startSupergraph } from './support/supergraph.ts';

// Events pushed over HTTP between the services (the embedded default), on PGlite.
defineOrderFlowSuite('placing orders, events over HTTP, embedded PGlite', () => startSupergraph());
