import { defineIntegrationSuite } from './support/integration-suite.ts';
import { startSupergraph } from './support/supergraph.ts';

defineIntegrationSuite('supergraph on embedded PGlite', () => startSupergraph());
