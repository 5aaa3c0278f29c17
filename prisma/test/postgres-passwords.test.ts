// The PostgreSQL platform suite as a real deployment sees it: a throw-away cluster of this test's
// own (the machine's PostgreSQL binaries, initdb with scram-sha-256, a free port, removed
// afterwards), where every connection must prove its password. Role passwords, CONNECT
// revocations and TEMPORARY are checked here as production checks them; the machine's own server
// may trust loopback and accept any password.
import { describe, expect, it } from 'vitest';
import { passwordClusterUnavailable, startPasswordCluster } from '../src/testing.ts';
import { definePostgresPlatformSuite } from './support/postgres-platform-suite.ts';

const unavailable = passwordClusterUnavailable();
if (unavailable) console.warn(`postgres-passwords.test.ts: skipped: ${unavailable}`);

definePostgresPlatformSuite(
  `PostgreSQL with password authentication (a throw-away scram-sha-256 cluster)${unavailable ? `: skipped, ${unavailable}` : ''}`,
  { start: () => startPasswordCluster(), checksPasswords: true },
  { skip: unavailable !== null },
);

describe.skipIf(unavailable !== null)('the throw-away cluster itself', () => {
  it('is stopped and removed by the next run when its test process was killed', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const { connect } = await import('node:net');
    const { fileURLToPath } = await import('node:url');
    const { CLUSTER_DIR_PREFIX, sweepAbandonedClusters } = await import('../src/testing.ts');
    const module = fileURLToPath(new URL('../src/test-cluster.ts', import.meta.url));
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { startPasswordCluster } = await import(${JSON.stringify(module)}); const c = await startPasswordCluster(); console.log(JSON.stringify({ dir: c.dir, port: c.port })); setInterval(() => {}, 1000);`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = await new Promise<{ dir: string; port: number }>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as { dir: string; port: number }));
      child.once('exit', (code) => reject(new Error(`cluster process exited early (${code})`)));
    });
    const accepts = (port: number) =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
    // Killed: no afterAll, no exit handler.
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(started.dir.split('/').at(-1)).toMatch(new RegExp(`^${CLUSTER_DIR_PREFIX}`));
    expect(existsSync(started.dir)).toBe(true);
    expect(await accepts(started.port)).toBe(true);

    expect(sweepAbandonedClusters()).toContain(started.dir);
    expect(existsSync(started.dir)).toBe(false);
    const deadline = Date.now() + 10_000;
    while ((await accepts(started.port)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await accepts(started.port)).toBe(false);
  });
});
