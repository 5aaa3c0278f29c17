/**
 * Where events are addressed, on either transport, without the transports themselves: the router
 * reads these (through the kit's `core`) and must not load a NATS client to know a path or a name.
 */

/** Where a relay pushes events over HTTP: every subscriber's path, and the router's. */
export const EVENTS_PATH = '/internal/events';
/** The attempt number of a pushed delivery, as the publisher counts it. */
export const ATTEMPT_HEADER = 'x-commerce-event-attempt';

/** A publisher's JetStream stream: `COMMERCE_<SOURCE>`, or `<prefix>_COMMERCE_<SOURCE>`. */
export const streamName = (source: string, prefix = '') => `${prefix ? `${prefix}_` : ''}COMMERCE_${source.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
/** The subject of an event type (`>` for all of a source): `commerce.<source>.<Type>`, or `<prefix>.commerce.<source>.<Type>`. */
export const subjectOf = (source: string, type: string, prefix = '') => `${prefix ? `${prefix}.` : ''}commerce.${source}.${type}`;

/** How long a JetStream stream keeps an event (`max_age`); subscribers keep their inbox rows as long (inbox.ts). */
export const STREAM_MAX_AGE_MS = 30 * 24 * 3600_000;
