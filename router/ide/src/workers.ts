/**
 * Monaco's workers (the editor, JSON for variables and headers, GraphQL for the operation) as
 * GraphiQL documents for Vite: bundled from the npm packages into hashed files under
 * /ide/assets/ and started with `new Worker(url)` from this origin, so the CSP's `worker-src
 * 'self'` admits them and nothing is fetched from a CDN. Using GraphiQL's own module (rather than
 * importing monaco-editor here) keeps the workers on exactly the Monaco version GraphiQL ships.
 * It logs one console.info line per worker started.
 */
import 'graphiql/setup-workers/vite';
