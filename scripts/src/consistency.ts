// npm run consistency [-- --settle-seconds <n>] [--json]
// Asks products, orders, inventory and reviews for their snapshots (GET /internal/snapshot, signed
// with each one's events secret) and reports every way they disagree: the order saga against
// inventory's reservations, stock against its ledger, every catalogue replica against products.
// Exit 0: consistent. 1: mismatches, or a service could not be asked. 2: usage.
// URLs and secrets as for `npm run events` (SUBGRAPH_<NAME>_URL or supergraph.yaml;
// <NAME>_EVENTS_SECRET or, outside production, <DATA_DIR or .data>/development-secrets.json).
import { parseArgs } from 'node:util';
import { INTERNAL_PATHS } from '@commerce/service-kit';
import { checkConsistency, formatReport, type Snapshots } from './consistency/check.ts';
import { callInternal, resolveTargets, ServiceError } from './consistency/internal.ts';
import { readSnapshot, SNAPSHOT_SERVICES, SnapshotShapeError } from './consistency/snapshots.ts';

const USAGE = `usage: npm run consistency [-- --settle-seconds <n>] [--json]
  --settle-seconds <n>  a PENDING order younger than this is in flight, not stuck (default 60)
  --json                the report as JSON on stdout`;

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

let options: { 'settle-seconds'?: string | undefined; json?: boolean | undefined; help?: boolean | undefined };
try {
  options = parseArgs({
    options: { 'settle-seconds': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: false,
  }).values;
} catch (error) {
  usage((error as Error).message);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const settleText = options['settle-seconds'] ?? '60';
const settleSeconds = Number(settleText);
if (!/^\d+(\.\d+)?$/.test(settleText) || !Number.isFinite(settleSeconds)) usage(`--settle-seconds must be a number of seconds ≥ 0, not ${JSON.stringify(settleText)}`);

const problems: string[] = [];
const targets = await resolveTargets(SNAPSHOT_SERVICES);
const fetched = await Promise.all(
  SNAPSHOT_SERVICES.map(async (service) => {
    const target = targets.get(service);
    try {
      if (!target || target instanceof ServiceError) throw target ?? new ServiceError(service, 'config', `${service}: not configured`);
      const answer = await callInternal(target, { method: 'GET', path: INTERNAL_PATHS.snapshot, timeoutMs: 60_000 });
      return [service, readSnapshot(service, answer)] as const;
    } catch (error) {
      if (error instanceof ServiceError) problems.push(error.message);
      else if (error instanceof SnapshotShapeError) problems.push(`${service}: its snapshot is not what this check reads (${error.message}); are the service and this command the same version?`);
      else problems.push(`${service}: ${(error as Error).message}`);
      return null;
    }
  }),
);

if (problems.length > 0) {
  if (options.json) console.log(JSON.stringify({ ok: false, errors: problems }, null, 2));
  for (const problem of problems) console.error(problem);
  console.error('Not checked: every one of products, orders, inventory and reviews must answer.');
  process.exit(1);
}

const snapshots = Object.fromEntries(fetched.filter((entry) => entry !== null)) as unknown as Snapshots;
const report = checkConsistency(snapshots, { settleSeconds });
if (options.json) console.log(JSON.stringify(report, null, 2));
else process.stdout.write(formatReport(report));
process.exit(report.ok ? 0 : 1);
