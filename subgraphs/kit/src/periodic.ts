import type { Logger } from './logger.ts';

/** Housekeeping a service repeats on its own database while it runs (see `startPeriodic`). */
export interface PeriodicTask<Client> {
  /** What it does, for the log: "inbox prune". */
  name: string;
  everyMs: number;
  /** Does one round; returns how many rows it changed (logged when any). */
  run(client: Client): Promise<number>;
}

export interface Periodic {
  /** No new round starts; resolves once a round in progress has ended. */
  stop(): Promise<void>;
}

/**
 * Runs a task at once and then every `everyMs`, one round at a time (a slow round is not queued
 * behind itself), without keeping the process alive. A failed round is logged and tried again
 * next time. Every replica runs its own, so a task must be safe to run in several at once (deletes
 * in batches that skip rows another replica holds).
 */
export function startPeriodic<Client>(task: PeriodicTask<Client>, client: Client, logger: Logger): Periodic {
  let round: Promise<void> | null = null;
  const tick = () => {
    if (round) return;
    round = task
      .run(client)
      .then(
        (rows) => (rows > 0 ? logger.info(`${task.name}: ${rows} rows`, { task: task.name, rows }) : undefined),
        (error: unknown) => logger.warn(`${task.name} failed; will try again`, { task: task.name, error: (error as Error).message }),
      )
      .finally(() => (round = null));
  };
  tick();
  const timer = setInterval(tick, task.everyMs).unref();
  return {
    async stop() {
      clearInterval(timer);
      await round;
    },
  };
}

export interface BatchLimits {
  /** Rows one statement may delete (default 5 000): each stays short and holds few locks. */
  batchSize?: number;
  /** Statements one call may run (default 100), so one round of housekeeping stays bounded. */
  maxBatches?: number;
}

/**
 * Runs `deleteBatch(batchSize)` (one DELETE of at most that many rows, claimed with SKIP LOCKED so
 * replicas do not wait on each other) until one deletes fewer, at most `maxBatches` times. Returns
 * the rows deleted.
 */
export async function deleteInBatches(deleteBatch: (batchSize: number) => Promise<number>, { batchSize = 5_000, maxBatches = 100 }: BatchLimits = {}): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const rows = await deleteBatch(batchSize);
    deleted += rows;
    if (rows < batchSize) break;
  }
  return deleted;
}
