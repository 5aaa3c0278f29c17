import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isAlive } from './local-processes.ts';

/**
 * A throw-away PostgreSQL cluster for tests that must see what a real deployment sees: password
 * authentication (SCRAM) for every connection, so a role without a password, a wrong one or a
 * revoked CONNECT is refused exactly as in production. (The machine's own server trusts loopback,
 * where no password is ever checked.)
 *
 * Made from the machine's PostgreSQL binaries: `initdb -A scram-sha-256` with a generated
 * superuser password, in a temp dir named `commerce-pgcluster-…`, on a free loopback port, started
 * and stopped with `pg_ctl`. `stop()` removes it; so does process exit; a cluster left by a killed
 * run is stopped and removed by the next one. initdb refuses to run as root, so as root (CI) the
 * cluster runs as the `postgres` OS user.
 */
export interface PasswordCluster {
  /** The superuser, with its password, on the maintenance database `postgres`. */
  adminUrl: string;
  port: number;
  /** The cluster's directory (data, socket, log). */
  dir: string;
  /** Stops the server and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

export const CLUSTER_DIR_PREFIX = 'commerce-pgcluster-';
const OS_USER = 'postgres';

/** Where initdb, pg_ctl and postgres are: TEST_POSTGRES_BIN_DIR, pg_config's bindir, or the newest /usr/lib/postgresql/<n>/bin. */
export function postgresBinDir(): string | null {
  const candidates: string[] = [];
  if (process.env.TEST_POSTGRES_BIN_DIR) candidates.push(process.env.TEST_POSTGRES_BIN_DIR);
  const config = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (config.status === 0) candidates.push(config.stdout.trim());
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, version, 'bin'));
  }
  return candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((bin) => existsSync(join(dir, bin)))) ?? null;
}

const isRoot = () => process.getuid?.() === 0;

/** Why a password cluster cannot be started here, or null when it can (tests skip with this message). */
export function passwordClusterUnavailable(): string | null {
  if (!postgresBinDir()) return 'no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: set TEST_POSTGRES_BIN_DIR or install PostgreSQL';
  if (isRoot()) {
    if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) return 'running as root without runuser: initdb refuses to run as root';
    if (spawnSync('id', ['-u', OS_USER]).status !== 0) return `running as root and there is no "${OS_USER}" OS user to run initdb as`;
  }
  return null;
}

/** Runs a PostgreSQL binary, as the postgres OS user when this process is root. */
function run(bin: string, args: string[], timeoutMs = 60_000) {
  const [command, argv] = isRoot() ? ['runuser', ['-u', OS_USER, '--', bin, ...args]] : [bin, args];
  return spawnSync(command, argv, { encoding: 'utf8', timeout: timeoutMs });
}

export async function startPasswordCluster(): Promise<PasswordCluster> {
  const unavailable = passwordClusterUnavailable();
  if (unavailable) throw new Error(`Cannot start a PostgreSQL test cluster: ${unavailable}`);
  const bin = postgresBinDir()!;
  sweepAbandonedClusters();
  const dir = await mkdtemp(join(tmpdir(), CLUSTER_DIR_PREFIX));
  await writeFile(join(dir, 'owner'), String(process.pid));
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'superuser-password');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (isRoot()) {
    const uid = Number(spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' }).stdout.trim());
    await chown(dir, uid, gid);
    await chown(pwfile, uid, gid);
  }
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const stopServer = () => run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w', '-t', '30'], 40_000);
  // A test run that fails or throws still exits: take the cluster with it.
  const onExit = () => {
    stopServer();
    removeDir();
  };
  process.once('exit', onExit);
  try {
    const init = run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.error?.message}`);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c shared_buffers=32MB',
        '-c max_connections=60',
      ].join(' ');
      const start = run(join(bin, 'pg_ctl'), ['start', '-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60']);
      if (start.status === 0) break;
      // Another process may have taken the port between our probe and the server's bind.
      if (attempt >= 3) throw new Error(`pg_ctl start failed: ${start.stderr}${readLog(dir)}`);
    }
    let stopped = false;
    return {
      adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      port,
      dir,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', onExit);
        const result = run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w', '-t', '30'], 40_000);
        if (result.status !== 0) stopServer();
        removeDir();
      },
    };
  } catch (error) {
    process.off('exit', onExit);
    onExit();
    throw error;
  }
}

function readLog(dir: string): string {
  try {
    return `\n${readFileSync(join(dir, 'server.log'), 'utf8').slice(-2_000)}`;
  } catch {
    return '';
  }
}

/**
 * Clusters whose test process is gone (killed before it could stop them): stop their server by
 * the pid in postmaster.pid and remove the directory.
 */
export function sweepAbandonedClusters(): string[] {
  const swept: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(CLUSTER_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(dir, 'owner'), 'utf8').trim());
    } catch {
      // No owner file: a cluster that never got going; nothing runs there.
    }
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) continue;
    try {
      const postmaster = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (Number.isInteger(postmaster) && postmaster > 0 && isAlive(postmaster)) {
        process.kill(postmaster, 'SIGQUIT');
        // Removing the directory under a server still shutting down leaves parts of it behind.
        const deadline = Date.now() + 10_000;
        while (isAlive(postmaster) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
      }
    } catch {
      // Not running.
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    swept.push(dir);
  }
  return swept;
}
