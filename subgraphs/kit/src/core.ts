// What any server here is built from, without the database platform or the subgraph machinery:
// the router imports this, so it never loads PGlite, Prisma adapters or pg (about 30 MB of RSS).
export { ConfigError, loadEnv, logLevel, port, redisUrl, signingSecret } from './env.ts';
export { badUserInput, conflict, ErrorCode, maskError, notFound } from './errors.ts';
export { createHttpHandler, HttpError, listen, readBody, sendJson } from './http.ts';
export type { BasicRequestInfo, HttpOptions, ListenOptions, PreparedRequest, RunningServer } from './http.ts';
export { ANONYMOUS, hasAnyScope, IDENTITY_HEADERS, identityHeaders, requestInfoFromHeaders, viewer } from './identity.ts';
export type { RequestInfo, Viewer } from './identity.ts';
export { connectRedis, redisNonceStore, redisReady, warnAtMostEvery } from './redis.ts';
export { createSignatureVerifier, memoryNonceStore, MIN_SECRET_LENGTH, SIGNATURE_HEADERS, signatureHeaders } from './signing.ts';
export type { NonceStore, SignableRequest, SignatureCheck } from './signing.ts';
export { runProcess } from './lifecycle.ts';
export type { Started } from './lifecycle.ts';
export { createLogger, describeError } from './logger.ts';
export type { Logger, LogLevel } from './logger.ts';
// What the router's entity cache needs of the events: contracts, envelopes, addresses. Kept to
// modules that load zod and nothing else (no NATS client, no database; core-imports.test.ts).
export { cacheInvalidatingEvents, changedEntities } from './events/catalog.ts';
export type { EntityRef } from './events/catalog.ts';
export { checkEnvelope } from './events/envelope.ts';
export type { EnvelopeCheck, EventEnvelope } from './events/envelope.ts';
export { EVENTS_PATH, streamName, subjectOf } from './events/names.ts';

/**
 * Node flags every subgraph (and the benchmark's monolith) is started with. V8 lets the young
 * generation grow to ~130 MB under load by default; capped at 8 MB per semi-space, peak RSS under
 * load fell from 304–385 MB to about 204–254 MB with throughput unchanged (npm run bench). A
 * subgraph's answers are one fetch's worth, and five of them run side by side, so they keep the
 * small cap. It must be given on the command line: set at runtime, V8 ignores it.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8'] as const;

/**
 * Node flags the router (and the other gateways in the benchmark) is started with. The router
 * builds whole answers, tens of KB each on a heavy page, and with an 8 MB semi-space it spent 14 %
 * of its CPU in GC. Measured in the router-only benchmark across answer sizes (docs/DESIGN.md,
 * "Router performance"): 32 MB cut its CPU per request by 18 % (53 KB answers) and 35 % (6 KB)
 * against 8 MB, with a lower p99, for about 80 MB more peak RSS; 64 MB and no cap gained little
 * more for another 45–60 MB.
 * `--heap-growing-percent=100`: after each full GC V8 lets the old generation grow to 2× what is
 * live instead of up to 4×. The router's live heap is about 50 MB; what fills the rest is answers
 * already sent, promoted before they died. Peak RSS under load 389 → 292 MB for 5–8 % more CPU per
 * request (same run; docs/DESIGN.md, "Router performance").
 */
export const ROUTER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32', '--heap-growing-percent=100'];
