// How an operator's command reaches a running service's internal routes (/internal/events,
// /internal/events/replay, /internal/events/backfill, /internal/snapshot): signed with that
// service's events secret, at the service's URL. Shared by `npm run events` and `npm run consistency`.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EVENT_CATALOG, signatureHeaders, subscriptionsOf } from '@commerce/service-kit';
import { readSubgraphs, REPO_ROOT } from '../composition.ts';

/** The services that take part in events (they have the internal routes): publishers and subscribers. */
export async function eventServices(): Promise<string[]> {
  const names = (await readSubgraphs()).map((subgraph) => subgraph.name);
  return names.filter((name) => name in EVENT_CATALOG || subscriptionsOf(name).length > 0);
}

export interface ServiceTarget {
  name: string;
  /** The service's base URL (its GraphQL URL; the internal routes live beside it). */
  url: string;
  /** Where the URL came from, for messages. */
  urlFrom: string;
  secret: string;
  secretFrom: string;
}

/** Why a service could not be asked: every case has its own message and the command exits 1. */
export class ServiceError extends Error {
  override name = 'ServiceError';
  readonly service: string;
  readonly reason: 'config' | 'unreachable' | 'refused' | 'not-found' | 'failed';
  constructor(service: string, reason: ServiceError['reason'], message: string) {
    super(message);
    this.service = service;
    this.reason = reason;
  }
}

const variable = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/**
 * Each service's URL and events secret. URL: `SUBGRAPH_<NAME>_URL`, else supergraph.yaml's routing
 * URL. Secret: `<NAME>_EVENTS_SECRET`, else (outside production) the development secrets `npm start`
 * keeps in `<DATA_DIR or .data>/development-secrets.json`. A service without either is a config error.
 */
export async function resolveTargets(names: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Map<string, ServiceTarget | ServiceError>> {
  const routing = new Map((await readSubgraphs()).map((subgraph) => [subgraph.name, subgraph.url]));
  const secretsFile = resolve(REPO_ROOT, env.DATA_DIR || '.data', 'development-secrets.json');
  const production = env.NODE_ENV === 'production';
  let development: Record<string, unknown> | null = null;
  if (!production && names.some((name) => !env[`${variable(name)}_EVENTS_SECRET`])) {
    development = await readFile(secretsFile, 'utf8')
      .then((text) => JSON.parse(text) as Record<string, unknown>)
      .catch(() => null);
  }
  const targets = new Map<string, ServiceTarget | ServiceError>();
  for (const name of names) {
    const urlVariable = `SUBGRAPH_${variable(name)}_URL`;
    const secretVariable = `${variable(name)}_EVENTS_SECRET`;
    const url = env[urlVariable] || routing.get(name);
    const urlFrom = env[urlVariable] ? urlVariable : 'supergraph.yaml';
    if (!url) {
      targets.set(name, new ServiceError(name, 'config', `${name}: no URL (set ${urlVariable}; supergraph.yaml has no subgraph of that name)`));
      continue;
    }
    const fromEnv = env[secretVariable];
    const fromFile = development?.[secretVariable];
    if (fromEnv) targets.set(name, { name, url, urlFrom, secret: fromEnv, secretFrom: secretVariable });
    else if (typeof fromFile === 'string' && fromFile) targets.set(name, { name, url, urlFrom, secret: fromFile, secretFrom: secretsFile });
    else {
      const hint = production
        ? `set ${secretVariable} to the events secret ${name} runs with`
        : `set ${secretVariable} to the events secret ${name} runs with (or start everything once with \`npm start\`, which keeps development secrets in ${secretsFile})`;
      targets.set(name, new ServiceError(name, 'config', `${name}: no events secret: ${hint}`));
    }
  }
  return targets;
}

export interface CallOptions {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  timeoutMs?: number;
}

/** Calls one internal route, signed; the parsed JSON answer on 200, a ServiceError otherwise. */
export async function callInternal(target: ServiceTarget, options: CallOptions): Promise<unknown> {
  const url = new URL(options.path, target.url);
  const body = options.method === 'POST' ? JSON.stringify(options.body ?? {}) : '';
  const headers: Record<string, string> = options.method === 'POST' ? { 'content-type': 'application/json' } : {};
  Object.assign(headers, signatureHeaders(target.secret, { method: options.method, path: `${url.pathname}${url.search}`, headers, body }));
  const where = `${url.origin} (from ${target.urlFrom})`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method,
      headers,
      ...(options.method === 'POST' ? { body } : {}),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = (error as Error).name === 'TimeoutError' ? 'no answer in time' : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new ServiceError(target.name, 'unreachable', `${target.name} is unreachable at ${where}: ${detail}. Is it running?`);
  }
  const text = await response.text();
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    payload = undefined;
  }
  if (response.status === 200 && payload !== undefined) return payload;
  const message = (payload as { errors?: { message?: unknown }[] } | undefined)?.errors?.[0]?.message;
  const said = typeof message === 'string' ? message : text.slice(0, 200);
  if (response.status === 401) {
    throw new ServiceError(
      target.name,
      'refused',
      `${target.name} at ${where} refused the signature: the events secret from ${target.secretFrom} is not the one it runs with (or the clocks differ by more than 30 s)`,
    );
  }
  if (response.status === 404) throw new ServiceError(target.name, 'not-found', `${target.name} at ${where}: ${options.path}: ${said || 'not found'}`);
  throw new ServiceError(target.name, 'failed', `${target.name} at ${where} answered ${response.status} to ${options.method} ${options.path}: ${said}`);
}
