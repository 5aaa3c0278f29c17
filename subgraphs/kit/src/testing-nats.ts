// Test support for JetStream: the test server's URL, a private nats-server a test may restart, stream cleanup.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from '@commerce/db/testing';

/** The NATS server the JetStream tests use (CI sets TEST_NATS_URL=nats://127.0.0.1:4222); unset → skipped. */
export const natsUrl: string | undefined = process.env.TEST_NATS_URL || undefined;

/** Whether something answers like a NATS server (its INFO line) at `url` within `timeoutMs`. */
export async function natsAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('INFO ')));
    socket.connect(Number(port || 4222), hostname.replace(/^\[|\]$/g, ''));
  });
}

/** A name for this run's streams, so tests never touch a deployment's (or another run's) streams. */
export const testStreamPrefix = () => `T${process.pid}_${randomBytes(3).toString('hex')}`.toUpperCase();

/** Deletes every stream whose name starts with `prefix` (a test's own). */
export async function deleteStreams(url: string, prefix: string): Promise<string[]> {
  const connection = await connect({ servers: url, timeout: 3_000 });
  try {
    const manager = await jetstreamManager(connection);
    const deleted: string[] = [];
    for await (const name of manager.streams.names()) {
      if (!name.startsWith(`${prefix}_`)) continue;
      await manager.streams.delete(name);
      deleted.push(name);
    }
    return deleted;
  } finally {
    await connection.close();
  }
}

/** The nats-server executable: TEST_NATS_SERVER, else `nats-server` on PATH or in /usr/sbin. */
export function natsServerBinary(): string | null {
  const candidates = [process.env.TEST_NATS_SERVER, ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'nats-server')), '/usr/sbin/nats-server'];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there
    }
  }
  return null;
}

/**
 * A NATS server with JetStream of this test's own (loopback, a free port, a fresh store), which
 * the test may stop and start again at will without disturbing anyone else's server. Stopping
 * and starting keep the port and the store, as a restart of a real server does.
 */
export async function privateNatsServer(binary: string) {
  const port = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'nats-test-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    if (child) return;
    const started = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
    child = started;
    started.once('exit', () => {
      if (child === started) child = null;
    });
    const deadline = Date.now() + 10_000;
    while (!(await natsAnswers(url, 500))) {
      if (Date.now() > deadline || !child) throw new Error(`nats-server did not start on ${url}`);
      await sleep(50);
    }
  };
  const stop = async () => {
    const running = child;
    if (!running) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const forced = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(forced);
  };
  await start();
  return {
    url,
    start,
    stop,
    /** Stops the server and throws its store away: it comes back knowing no stream or consumer. */
    async wipe() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
      await mkdir(storeDir, { recursive: true });
    },
    running: () => child !== null,
    async close() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
