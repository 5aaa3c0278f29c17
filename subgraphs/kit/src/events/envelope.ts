import { z } from 'zod';
import { contractOf } from './catalog.ts';

/** What travels between services, on any transport. */
export interface EventEnvelope<Payload = unknown> {
  /** Unique; a receiver handles each id once (its inbox), a broker de-duplicates by it. */
  id: string;
  source: string;
  type: string;
  version: number;
  /** The ordering key: events of one aggregate arrive in the order they were published. */
  aggregate: string;
  /** Publication order within the source (gaps allowed). */
  sequence: number;
  occurredAt: string;
  payload: Payload;
}

const envelopeShape = z
  .object({
    id: z.uuid(),
    source: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
    type: z.string().regex(/^[A-Z][A-Za-z0-9]{0,99}$/),
    version: z.number().int().positive(),
    aggregate: z.string().min(1).max(200),
    sequence: z.number().int().nonnegative(),
    occurredAt: z.iso.datetime(),
    payload: z.unknown(),
  })
  .strict();

export type EnvelopeCheck = { ok: true; envelope: EventEnvelope } | { ok: false; reason: string; envelope: unknown };

/**
 * Checks an incoming event against its contract. A malformed envelope, an unknown type or
 * version, or a payload that does not match its schema is refused with a reason (the caller parks
 * it); the payload comes back parsed by its schema.
 */
export function checkEnvelope(raw: unknown): EnvelopeCheck {
  const shape = envelopeShape.safeParse(raw);
  if (!shape.success) return { ok: false, reason: `malformed envelope: ${describe(shape.error)}`, envelope: raw };
  const envelope = shape.data as EventEnvelope;
  const contract = contractOf(envelope.source, envelope.type);
  if (!contract) return { ok: false, reason: `unknown event type ${envelope.source}.${envelope.type}`, envelope };
  const schema = contract.versions[envelope.version];
  if (!schema) return { ok: false, reason: `unknown version ${envelope.version} of ${envelope.source}.${envelope.type}`, envelope };
  const payload = schema.safeParse(envelope.payload);
  if (!payload.success) return { ok: false, reason: `payload does not match ${envelope.source}.${envelope.type}@${envelope.version}: ${describe(payload.error)}`, envelope };
  return { ok: true, envelope: { ...envelope, payload: payload.data } };
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
    .join('; ');
}
