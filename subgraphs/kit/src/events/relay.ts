import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { warnAtMostEvery } from '../redis.ts';
import { claimDeliveries, expandEvents, markDelivered, markFailed, outboxBacklog, type SqlClient } from './outbox.ts';
import type { EventTransport } from './transports.ts';

/**
 * Moves a service's outbox to its destinations. Any number of relays (one per replica) may run
 * against one database: deliveries are claimed with SKIP LOCKED and a lease, so each is sent by
 * one relay at a time and none is lost when a relay dies. Nothing is held in process memory but
 * the loop itself. No transaction is open while an event is on the wire.
 */
export interface RelayOptions {
  db: SqlClient;
  transport: EventTransport;
  logger: Logger;
  /** How often an idle relay looks for new events (default 100 ms). */
  pollMs?: number;
  batchSize?: number;
  /** Deliveries in flight to one destination at once (default 4). */
  concurrencyPerDestination?: number;
  /** How long a claimed delivery is reserved for this relay (default 30 s). */
  leaseMs?: number;
  /** Backoff between attempts of one delivery: base × 2^(attempt−1), capped, with jitter. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface Relay {
  /** Look at the outbox now instead of at the next poll (after a local commit). */
  wake(): void;
  /** Delivers everything due now and resolves when nothing due is left (tests, shutdown). */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  delivered(): number;
}

export function startRelay(options: RelayOptions): Relay {
  const pollMs = options.pollMs ?? 100;
  const batchSize = options.batchSize ?? 50;
  const concurrency = options.concurrencyPerDestination ?? 4;
  const leaseMs = options.leaseMs ?? 30_000;
  const baseMs = options.retryBaseMs ?? 500;
  const maxMs = options.retryMaxMs ?? 60_000;
  const warn = warnAtMostEvery(30_000, options.logger);
  let stopped = false;
  let delivered = 0;
  let wakeUp: (() => void) | null = null;

  const backoff = (attempt: number) => Math.round(Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1)) * (0.5 + Math.random() / 2));

  /** One pass: expand, claim, deliver. Returns how many deliveries it claimed. */
  const pass = async (): Promise<number> => {
    await expandEvents(options.db, (source, type) => options.transport.destinations(source, type));
    const claimed = await claimDeliveries(options.db, batchSize, leaseMs);
    // One delivery per aggregate and destination at most (claimDeliveries), so they may go in
    // parallel, but no more than `concurrency` at a time to one destination: a burst of orders must
    // not arrive at inventory as a burst of transactions fighting over one stock row.
    await forEachLimited(
      claimed,
      (delivery) => delivery.destination,
      concurrency,
      async ({ destination, attempts, envelope }) => {
        try {
          await options.transport.send(destination, envelope, attempts);
          await markDelivered(options.db, envelope.id, destination);
          delivered++;
        } catch (error) {
          const message = (error as Error).message;
          warn('event delivery failed; will retry', { destination, event: `${envelope.source}.${envelope.type}`, attempts, error: message });
          await markFailed(options.db, envelope.id, destination, backoff(attempts), message).catch(() => {});
        }
      },
    );
    return claimed.length;
  };

  const loop = (async () => {
    let failures = 0;
    while (!stopped) {
      let claimed = 0;
      try {
        claimed = await pass();
        failures = 0;
      } catch (error) {
        failures++;
        warn('event relay cannot reach its database; retrying', { error: (error as Error).message });
      }
      if (stopped || claimed >= batchSize) continue;
      const wait = failures > 0 ? Math.min(5_000, pollMs * 2 ** failures) : pollMs;
      await Promise.race([sleep(wait, undefined, { ref: false }), new Promise<void>((resolve) => (wakeUp = resolve))]);
      wakeUp = null;
    }
  })();

  return {
    wake: () => wakeUp?.(),
    async drain(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const backlog = await outboxBacklog(options.db);
        const pending = Object.values(backlog.pending).reduce((a, b) => a + b, 0) + backlog.unexpanded;
        if (pending === 0) return;
        wakeUp?.();
        await sleep(20);
      }
      throw new Error('the outbox did not drain in time');
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
    },
    delivered: () => delivered,
  };
}

/** Runs `work` over `items` with at most `limit` running at once per key. */
async function forEachLimited<T>(items: readonly T[], keyOf: (item: T) => string, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const queue = queues.get(key);
    if (queue) queue.push(item);
    else queues.set(key, [item]);
  }
  const lanes: Promise<void>[] = [];
  for (const queue of queues.values()) {
    // Counted before any lane starts: each lane takes its first item at once.
    const laneCount = Math.min(limit, queue.length);
    for (let lane = 0; lane < laneCount; lane++) {
      lanes.push(
        (async () => {
          for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
        })(),
      );
    }
  }
  await Promise.all(lanes);
}
