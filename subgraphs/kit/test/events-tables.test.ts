import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EVENT_CATALOG, type EventContract } from '../src/index.ts';

/**
 * The kit's event code reads and writes the events tables with plain SQL, the same in every
 * service, so every service's schema.prisma must carry the canonical models of
 * `kit/prisma/events.prisma` byte for byte (from its header comment to the end of
 * `model ParkedEvent`); a drift would show up as a migration that differs from the others.
 */
const SUBGRAPHS = new URL('../../', import.meta.url);
const CANONICAL = new URL('../prisma/events.prisma', import.meta.url);
const EVENT_MODELS = ['OutboxEvent', 'OutboxDelivery', 'InboxEvent', 'ParkedEvent'];
/** Services that publish or subscribe (the kit's event catalogue) and so must have the tables. */
const REQUIRED = [
  ...new Set(Object.entries(EVENT_CATALOG).flatMap(([source, events]) => [source, ...Object.values(events as Record<string, EventContract>).flatMap((contract) => contract.subscribers)])),
].sort();

/** The events block in a schema: from the canonical header line to the `}` closing ParkedEvent. */
function eventsBlock(text: string, header: string): string | null {
  const start = text.indexOf(header);
  if (start < 0) return null;
  const parked = text.indexOf('model ParkedEvent {', start);
  if (parked < 0) return null;
  const end = text.indexOf('\n}', parked);
  return end < 0 ? null : text.slice(start, end + 2);
}

async function schemasWithEvents(): Promise<Map<string, string>> {
  const schemas = new Map<string, string>();
  for (const entry of await readdir(SUBGRAPHS, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const text = await readFile(new URL(`${entry.name}/prisma/schema.prisma`, SUBGRAPHS), 'utf8').catch(() => null);
    if (text?.includes('model OutboxEvent')) schemas.set(entry.name, text);
  }
  return new Map([...schemas].sort(([a], [b]) => a.localeCompare(b)));
}

describe('the events tables in every service', () => {
  it('are the kit’s canonical models, byte for byte, in every service that has them, and every service that uses events has them', async () => {
    const canonicalFile = await readFile(CANONICAL, 'utf8');
    const header = canonicalFile.slice(0, canonicalFile.indexOf('\n'));
    expect(header).toMatch(/^\/\/ ---- Event backbone tables/);
    const canonical = eventsBlock(canonicalFile, header);
    // The kit's file is the block and nothing else.
    expect(canonical).toBe(canonicalFile.trimEnd());

    const schemas = await schemasWithEvents();
    for (const [service, text] of schemas) {
      expect(eventsBlock(text, header), `${service}/prisma/schema.prisma: copy kit/prisma/events.prisma verbatim (header comment included)`).toBe(canonical);
      for (const model of EVENT_MODELS) {
        expect(text.split(`model ${model} {`).length - 1, `${service}: model ${model} must be defined once, inside the copied block`).toBe(1);
      }
    }
    expect(REQUIRED).toEqual(['accounts', 'inventory', 'orders', 'products', 'reviews']);
    const missing = REQUIRED.filter((service) => !schemas.has(service));
    expect(missing, `services of the event catalogue without the events tables: ${missing.join(', ')}`).toEqual([]);
  });
});
