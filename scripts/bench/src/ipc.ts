import type { IncomingMessage, Server } from 'node:http';
import type { Database } from '@commerce/db';
/**
 * The few messages between the benchmark and the processes it starts. Every server process says
 * `ready` once listening and answers `stats` with its counters since it started: requests that
 * reached its GraphQL endpoint and SQL statements its Prisma client sent (Database.onStatement).
 */
export type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'stats'; id: number; requests: number; statements: number }
  | { type: 'failed'; error: string };

export type ParentMessage = { type: 'stats'; id: number };

export interface Counters {
  requests: number;
  statements: number;
}

/** Wires a server process: `stats` requests answered from `counters`; the parent going away stops it. */
export function serveCounters(counters: Counters, stop: () => Promise<void>): void {
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stats') send({ type: 'stats', id: message.id, ...counters });
  });
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3_000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown);
  // The benchmark owns Ctrl-C: it stops every process itself, in order.
  process.on('SIGINT', () => {});
}

/**
 * For a server backed by one database (a subgraph, the monolith): counts the requests reaching its
 * GraphQL endpoint and the statements its Prisma client sends, serves them, and says ready.
 */
export function announceServer(running: { server: Server; stop(): Promise<void> }, database: Database, url: string): void {
  const counters: Counters = { requests: 0, statements: 0 };
  running.server.on('request', (request: IncomingMessage) => {
    if (request.url?.startsWith('/graphql')) counters.requests++;
  });
  database.onStatement(() => {
    counters.statements++;
  });
  serveCounters(counters, async () => {
    await running.stop();
    await database.close();
  });
  send({ type: 'ready', url });
}

export function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Runs a server process's start-up; a failure is reported to the parent, then the process exits. */
export async function startChild(start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
}
