// The event backbone every service uses: contracts, outbox, relay, inbox, transports.
export { cacheInvalidatingEvents, changedEntities, contractOf, EVENT_CATALOG, latestVersion, subscriptionsOf } from './catalog.ts';
export type { EntityRef, EventContract, EventPayload, EventSource, EventType } from './catalog.ts';
export { checkEnvelope } from './envelope.ts';
export type { EnvelopeCheck, EventEnvelope } from './envelope.ts';
export { createReceiver, INBOX_RETAIN_MS, listParked, PoisonEvent, pruneInbox, replayParked } from './inbox.ts';
export type { EventHandler, EventHandlers, ParkedEvent, Receipt } from './inbox.ts';
export { claimDeliveries, expandEvents, OUTBOX_RETAIN_MS, outboxBacklog, publishEvent } from './outbox.ts';
export type { EventClient, OutboxBacklog, PublishedEvent, SqlClient } from './outbox.ts';
export type { SqlTransactionClient } from '@commerce/db';
export { startRelay } from './relay.ts';
export type { Relay, RelayOptions } from './relay.ts';
export { eventMetrics, INTERNAL_PATHS, startServiceEvents } from './runtime.ts';
export type { EventsOptions, EventStatus, ServiceEvents, ServiceHooks } from './runtime.ts';
export { ATTEMPT_HEADER, EVENTS_PATH, httpTransport, JETSTREAM_ACK_WAIT_MS, jetStreamTransport, ROUTER_DESTINATION, streamName, subjectOf } from './transports.ts';
export type { ConsumerLag, EventTransport, HttpTransportOptions, JetStreamTransportOptions } from './transports.ts';
export type { InventorySnapshot, OrdersSnapshot, ProductsSnapshot, ReplicaProduct, ReviewsSnapshot, SnapshotsByService } from './snapshots.ts';
