// npm run events -- <command>: the event backbone of running services, through their signed
// internal routes (never their databases).
//   status [<service> …]                 per service: deliveries pending per destination, the oldest
//                                         pending event's age, parked events; on JetStream, how far
//                                         each subscriber's consumers are behind, per source
//   parked <service>                      the events a service set aside, with the reasons
//   replay <service> [--id <eventId> …]   hands parked events back to the service (all, or these)
//   backfill <publisher>                  the publisher publishes snapshot events of all it owns
// --json prints the services' answers as JSON. Exit 0: done (status reports, it does not judge);
// 1: a service could not be asked, or a replayed event was parked again / not found; 2: usage.
// URLs: SUBGRAPH_<NAME>_URL, else supergraph.yaml. Secrets: <NAME>_EVENTS_SECRET, else (outside
// production) <DATA_DIR or .data>/development-secrets.json, which `npm start` writes.
import { parseArgs } from 'node:util';
import { EVENT_CATALOG, INTERNAL_PATHS, type ConsumerLag, type OutboxBacklog, type ParkedEvent } from '@commerce/service-kit';
import { callInternal, eventServices, resolveTargets, ServiceError, type ServiceTarget } from './consistency/internal.ts';

const USAGE = `usage: npm run events -- <command> [--json]
  status [<service> …]                  pending deliveries per destination, oldest pending age, parked count
                                        (JetStream: each subscriber's events not yet handled, per source)
  parked <service>                      parked events with their reasons
  replay <service> [--id <eventId> …]   replay parked events (all of them, or those named)
  backfill <publisher>                  ask a publisher to publish snapshot events of everything it owns`;

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(2);
}

let parsed: { values: { id?: string[] | undefined; json?: boolean | undefined; help?: boolean | undefined }; positionals: string[] };
try {
  parsed = parseArgs({
    options: { id: { type: 'string', multiple: true }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [command, ...rest] = positionals;
const services = await eventServices();
const json = values.json === true;

/** The named service, checked against the ones that take part in events. */
function oneService(what: string, among = services): string {
  if (rest.length === 0) usage(`${command}: which ${what}? One of: ${among.join(', ')}`);
  if (rest.length > 1) usage(`${command}: one ${what} at a time (got ${rest.join(', ')})`);
  const name = rest[0]!;
  if (!among.includes(name)) usage(`${command}: ${JSON.stringify(name)} is not ${what === 'publisher' ? 'a publisher' : 'a service that takes part in events'}; one of: ${among.join(', ')}`);
  return name;
}

async function target(name: string): Promise<ServiceTarget> {
  const found = (await resolveTargets([name])).get(name);
  if (!found || found instanceof ServiceError) throw found ?? new ServiceError(name, 'config', `${name}: not configured`);
  return found;
}

function fail(error: unknown): never {
  console.error(error instanceof ServiceError ? error.message : `error: ${(error as Error).message}`);
  process.exit(1);
}

interface EventsAnswer {
  service: string;
  transport: 'http' | 'jetstream';
  subscribes: boolean;
  backlog: OutboxBacklog;
  parked: { count: number; events: ParkedEvent[] };
  /** JetStream subscribers: per source stream; absent when NATS did not answer the service in time. */
  consumerLag?: Record<string, ConsumerLag>;
}

/** A JetStream subscriber's consumers that are behind: "products 3 (+1 being handled)", "none", or why it is not known. */
function behind(answer: EventsAnswer): string {
  if (answer.transport !== 'jetstream' || !answer.subscribes) return '';
  if (!answer.consumerLag) return 'unknown (NATS did not answer)';
  const sources = Object.entries(answer.consumerLag)
    .filter(([, lag]) => lag.pending > 0 || lag.unacknowledged > 0)
    .sort(([x], [y]) => x.localeCompare(y));
  if (sources.length === 0) return 'none';
  return sources.map(([source, lag]) => `${source} ${lag.pending}${lag.unacknowledged > 0 ? ` (+${lag.unacknowledged} being handled)` : ''}`).join(', ');
}

const NOT_ASKED: Record<ServiceError['reason'], string> = {
  config: 'NOT CONFIGURED (see below)',
  unreachable: 'UNREACHABLE (see below)',
  refused: 'REFUSED THE SIGNATURE (see below)',
  'not-found': 'NO EVENTS ROUTE (see below)',
  failed: 'FAILED (see below)',
};

const age = (seconds: number) => (seconds < 120 ? `${seconds} s` : seconds < 7_200 ? `${Math.round(seconds / 6) / 10} min` : `${Math.round(seconds / 360) / 10} h`);

if (values.id && command !== 'replay') usage('--id is an option of replay only');

const commands: Record<string, () => Promise<number>> = { status, parked, replay, backfill };
if (command === undefined) usage('missing command');
const run = commands[command];
if (!run) usage(`unknown command ${JSON.stringify(command)}`);
process.exit(await run());

async function status(): Promise<number> {
  for (const name of rest) if (!services.includes(name)) usage(`status: ${JSON.stringify(name)} is not a service that takes part in events; one of: ${services.join(', ')}`);
  const names = rest.length > 0 ? rest : services;
  const targets = await resolveTargets(names);
  const answers = await Promise.all(
    names.map(async (name): Promise<{ name: string; answer: EventsAnswer } | { name: string; error: string; reason: ServiceError['reason'] }> => {
      const found = targets.get(name);
      try {
        if (!found || found instanceof ServiceError) throw found;
        return { name, answer: (await callInternal(found, { method: 'GET', path: INTERNAL_PATHS.events })) as EventsAnswer };
      } catch (error) {
        if (error instanceof ServiceError) return { name, error: error.message, reason: error.reason };
        return { name, error: `${name}: ${(error as Error).message}`, reason: 'failed' };
      }
    }),
  );
  if (json) {
    const report = answers.map((a) =>
      'answer' in a
        ? { service: a.name, backlog: a.answer.backlog, parked: a.answer.parked.count, ...(a.answer.consumerLag ? { consumerLag: a.answer.consumerLag } : {}) }
        : { service: a.name, error: a.error },
    );
    console.log(JSON.stringify(report, null, 2));
  } else {
    // The JetStream column only when a service answered that it runs on JetStream.
    const jetStream = answers.some((a) => 'answer' in a && a.answer.transport === 'jetstream');
    const rows = answers.map((a) => {
      if (!('answer' in a)) return [a.name, NOT_ASKED[a.reason], '', '', ...(jetStream ? [''] : [])];
      const { backlog, parked } = a.answer;
      const publishes = a.name in EVENT_CATALOG;
      const pending = Object.entries(backlog.pending)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([destination, n]) => `${destination} ${n}`);
      if (backlog.unexpanded > 0) pending.push(`not yet routed ${backlog.unexpanded}`);
      const waiting = pending.length > 0 ? pending.join(', ') : publishes ? 'none' : '(publishes nothing)';
      const oldest = !publishes ? '' : backlog.oldestPendingSeconds > 0 ? age(backlog.oldestPendingSeconds) : '-';
      return [a.name, waiting, oldest, String(parked.count), ...(jetStream ? [behind(a.answer)] : [])];
    });
    const header = ['service', 'pending deliveries', 'oldest pending', 'parked', ...(jetStream ? ['not yet handled (JetStream)'] : [])];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
    for (const a of answers) if ('error' in a) console.error(a.error);
    const parkedTotal = answers.reduce((n, a) => n + ('answer' in a ? a.answer.parked.count : 0), 0);
    if (parkedTotal > 0) console.log(`\n${parkedTotal} parked: see \`npm run events -- parked <service>\`, fix the cause, then \`npm run events -- replay <service>\`.`);
  }
  return answers.some((a) => 'error' in a) ? 1 : 0;
}

async function parked(): Promise<number> {
  const name = oneService('service');
  let answer: EventsAnswer;
  try {
    answer = (await callInternal(await target(name), { method: 'GET', path: INTERNAL_PATHS.events })) as EventsAnswer;
  } catch (error) {
    fail(error);
  }
  const { count, events } = answer.parked;
  if (json) {
    console.log(JSON.stringify(answer.parked, null, 2));
    return 0;
  }
  if (count === 0) {
    console.log(`${name}: no parked events.`);
    return 0;
  }
  console.log(`${name}: ${count} parked event${count === 1 ? '' : 's'}${events.length < count ? ` (the oldest ${events.length} shown)` : ''}`);
  for (const event of events) {
    const type = event.source && event.type ? `${event.source}.${event.type}${event.version === null ? '' : `@${event.version}`}` : '(unreadable)';
    console.log(`\n  ${event.eventId}  ${type}`);
    console.log(`    parked ${event.parkedAt}, ${event.attempts} attempt${event.attempts === 1 ? '' : 's'}`);
    console.log(`    reason: ${event.reason}`);
  }
  console.log(`\nAfter fixing the cause: npm run events -- replay ${name} [--id <eventId> …]`);
  return 0;
}

async function replay(): Promise<number> {
  const name = oneService('service');
  const ids = values.id ?? [];
  for (const id of ids) if (!id.trim() || id.length > 100) usage(`replay: --id needs an event id (as \`parked ${name}\` lists them), not ${JSON.stringify(id)}`);
  let answer: { replayed: { eventId: string; outcome: string; reason?: string }[] };
  try {
    const body = ids.length > 0 ? { ids } : {};
    answer = (await callInternal(await target(name), { method: 'POST', path: INTERNAL_PATHS.replay, body, timeoutMs: 300_000 })) as typeof answer;
  } catch (error) {
    fail(error);
  }
  const missing = ids.filter((id) => !answer.replayed.some((r) => r.eventId === id));
  const again = answer.replayed.filter((r) => r.outcome === 'parked').length;
  if (json) {
    console.log(JSON.stringify({ replayed: answer.replayed, notParked: missing }, null, 2));
  } else {
    if (answer.replayed.length === 0 && ids.length === 0) console.log(`${name}: no parked events to replay.`);
    const described: Record<string, string> = {
      handled: 'handled',
      duplicate: 'had been handled before (no second effect)',
      ignored: 'ignored (not for this service)',
      parked: 'parked again',
    };
    for (const r of answer.replayed) console.log(`${r.eventId}  ${described[r.outcome] ?? r.outcome}${r.reason ? `: ${r.reason}` : ''}`);
    for (const id of missing) console.log(`${id}  not parked (unknown id, or already replayed)`);
    if (answer.replayed.length > 0) console.log(`\n${name}: ${answer.replayed.length} replayed, ${answer.replayed.length - again} done, ${again} parked again.`);
  }
  return again > 0 || missing.length > 0 ? 1 : 0;
}

async function backfill(): Promise<number> {
  const name = oneService('publisher', services.filter((s) => s in EVENT_CATALOG));
  let answer: { published: number };
  try {
    answer = (await callInternal(await target(name), { method: 'POST', path: INTERNAL_PATHS.backfill, timeoutMs: 300_000 })) as typeof answer;
  } catch (error) {
    fail(error);
  }
  if (json) console.log(JSON.stringify({ service: name, published: answer.published }));
  else console.log(`${name} published ${answer.published} snapshot event${answer.published === 1 ? '' : 's'}; its relay delivers them to every subscriber (watch with \`npm run events -- status\`).`);
  return 0;
}
