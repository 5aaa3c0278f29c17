import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, IDENTITY_HEADERS } from '@commerce/service-kit/core';
import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { GraphQLError } from 'graphql';
import type { Dispatcher, Pool as UndiciPool } from 'undici';
// undici's Pool alone: the package's index also loads fetch, WebSocket, EventSource, its caches and
// mocks, none of which the router uses (measured: 6.0 MB more heap and 31 MB more RSS to load, against
// 2.5 and 17 for the pool).
import Pool from 'undici/lib/dispatcher/pool.js';

/**
 * How the router calls a subgraph: undici on a keep-alive connection pool (one per subgraph),
 * a deadline per attempt, retries for queries, a circuit breaker, and errors that name the
 * subgraph but never its internal URL. The gateway has none of these of its own, and its default
 * fetcher's errors carry the URL.
 */
export interface SubgraphFetcherOptions {
  name: string;
  /** Deadline of one attempt: connection, request and the whole response. */
  timeoutMs: number;
  /** Open connections per subgraph, at most. */
  maxSockets: number;
  /**
   * Coalesce identical queries in flight to the same subgraph: one request, every caller gets the
   * answer. Only queries (never mutations), and the key includes the headers that identify the
   * caller, so two users never share a response.
   */
  coalesce: boolean;
  /** Retries of queries; defaults in DEFAULT_RETRY. */
  retry?: Partial<RetryOptions>;
  /** The circuit breaker of this subgraph; defaults in DEFAULT_BREAKER. */
  breaker?: Partial<BreakerOptions>;
  /** Called on every breaker transition (for logs). */
  onStateChange?: (name: string, state: BreakerState) => void;
}

export interface RetryOptions {
  /** Attempts in all, the first included; 1 disables retries. */
  maxAttempts: number;
  /** Backoff before retry n is random in [0, min(maxDelayMs, baseDelayMs × 2^(n−1))) (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * What one exchange may take with its retries: a retry starts only if its backoff and a full
   * deadline fit in what is left. Default 2 × timeoutMs.
   */
  budgetMs?: number;
}

export interface BreakerOptions {
  /** Consecutive failed attempts that open the breaker. */
  consecutiveFailures: number;
  /** How long it stays open before one trial request is let through. */
  halfOpenAfterMs: number;
}

export const DEFAULT_RETRY: Readonly<Required<Omit<RetryOptions, 'budgetMs'>>> = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 };
export const DEFAULT_BREAKER: Readonly<BreakerOptions> = { consecutiveFailures: 5, halfOpenAfterMs: 5_000 };

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface SubgraphHealth {
  state: BreakerState;
  /** Failed attempts in a row so far (reset by any success). */
  consecutiveFailures: number;
}

/**
 * Headers whose values identify a caller: requests differing in them are never coalesced. The
 * router forwards identity only in the headers it sets itself (user id and scopes); the client's
 * own credentials never reach a subgraph, but are part of the key too in case a data source forwards them.
 */
const CALLER_HEADERS = [IDENTITY_HEADERS.userId, IDENTITY_HEADERS.scopes, 'authorization', 'cookie'];

/**
 * Errors before any response where another attempt can help: the subgraph refused or dropped the
 * connection (restarting, or a pooled keep-alive socket it had just closed; undici reports a
 * socket closed under a request as UND_ERR_SOCKET).
 */
const RETRYABLE_ERRORS: ReadonlySet<string | undefined> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
/** undici's refusals of the request itself (a header value it will not send): no sign of the subgraph's health. */
const REQUEST_ERRORS: ReadonlySet<string | undefined> = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);
/** Answers from a proxy or an overloaded subgraph that say "try again". A 500 is a bug: not retried. */
const RETRYABLE_STATUSES = new Set([502, 503, 504]);

/** A subgraph's whole answer, read into memory: what the router's data source works from. */
export interface SubgraphResponse {
  status: number;
  /** The reason phrase the subgraph sent (e.g. "Bad Request"). */
  statusText: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type BufferedResponse = SubgraphResponse;

type FetcherInit = { method?: string; headers?: Record<string, string> | Headers; body?: string };

export type Fetcher = (url: string, init?: FetcherInit) => Promise<Response>;

export type SubgraphFetcher = Fetcher & {
  /**
   * The same exchange without a WHATWG Response: the router's data source takes the buffered
   * answer as it is (status, headers, body text). `headers` are sent as given (lower-case names).
   */
  exchange(url: URL, method: string, headers: Record<string, string>, body: string): Promise<SubgraphResponse>;
  /** The breaker's state, for readiness. */
  health(): SubgraphHealth;
  destroy(): void;
};

export function createSubgraphFetcher(options: SubgraphFetcherOptions): SubgraphFetcher {
  const { name, timeoutMs } = options;
  // Field by field: an option given as undefined (an unset env var) takes its default.
  const retry = {
    maxAttempts: options.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
    baseDelayMs: options.retry?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
    maxDelayMs: options.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    budgetMs: options.retry?.budgetMs ?? 2 * timeoutMs,
  };
  const breakerOptions = {
    consecutiveFailures: options.breaker?.consecutiveFailures ?? DEFAULT_BREAKER.consecutiveFailures,
    halfOpenAfterMs: options.breaker?.halfOpenAfterMs ?? DEFAULT_BREAKER.halfOpenAfterMs,
  };
  check(name, 'timeoutMs', timeoutMs, 1);
  check(name, 'retry.maxAttempts', retry.maxAttempts, 1);
  check(name, 'retry.baseDelayMs', retry.baseDelayMs, 0);
  check(name, 'retry.maxDelayMs', retry.maxDelayMs, 0);
  check(name, 'retry.budgetMs', retry.budgetMs, 0);
  check(name, 'breaker.consecutiveFailures', breakerOptions.consecutiveFailures, 1);
  check(name, 'breaker.halfOpenAfterMs', breakerOptions.halfOpenAfterMs, 0);

  // One pool per origin (a subgraph's URL, or a test's): made when first used, and again after destroy().
  const pools = new Map<string, UndiciPool>();
  const poolFor = (url: URL): UndiciPool => {
    let pool = pools.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, { connections: options.maxSockets, pipelining: 1 });
      pools.set(url.origin, pool);
    }
    return pool;
  };
  const inflight = new Map<string, Promise<BufferedResponse>>();

  // One breaker per subgraph. Every attempt counts: a network error (refused, reset, deadline) or a
  // 5xx answer is a failure; any other answer, 4xx and 200-with-errors included, is a success.
  const counter = new ConsecutiveBreaker(breakerOptions.consecutiveFailures);
  const breaker: CircuitBreakerPolicy = circuitBreaker(
    handleWhen((error) => error instanceof AttemptError).orWhenResult((response) => (response as BufferedResponse).status >= 500),
    { halfOpenAfter: breakerOptions.halfOpenAfterMs, breaker: counter },
  );
  const { onStateChange } = options;
  if (onStateChange) {
    breaker.onStateChange((state) => {
      try {
        onStateChange(name, stateName(state));
      } catch {
        // Runs inside a request's exchange: a failing listener must not fail the request.
      }
    });
  }

  const unavailable = () =>
    new GraphQLError(`The ${name} service is unavailable`, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName: name } });
  const deadlineExceeded = () =>
    new GraphQLError(`The ${name} service did not answer within ${timeoutMs} ms`, {
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName: name },
    });

  /**
   * One attempt, bounded by the deadline; failures say whether they happened before a response.
   * Once it has timed out, nothing else about a failure matters: deadlines are never retried.
   * undici's dispatch API: the answer is gathered as it arrives, with the reason phrase the
   * subgraph sent, and no stream objects in between.
   */
  const send = (url: URL, method: string, headers: Record<string, string>, body: string) =>
    new Promise<BufferedResponse>((resolve, reject) => {
      let responded = false;
      let timedOut = false;
      let settled = false;
      let controller: Dispatcher.DispatchController | undefined;
      let status = 502;
      let statusText = '';
      let responseHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      const settle = (finish: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        finish();
      };
      // One deadline for the whole exchange: waiting for a pooled connection, connecting, idle gaps,
      // and a subgraph that trickles bytes (it never goes idle, so no idle timeout could catch it).
      const deadline = setTimeout(() => {
        timedOut = true;
        controller?.abort(new AttemptError(true, false));
        settle(() => reject(new AttemptError(true, false)));
      }, timeoutMs);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(started) {
          controller = started;
          if (timedOut) started.abort(new AttemptError(true, false));
        },
        onResponseStart(_controller, statusCode, responseHeadersReceived, statusMessage) {
          responded = true;
          status = statusCode;
          statusText = statusMessage ?? '';
          responseHeaders = responseHeadersReceived;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          settle(() =>
            resolve({
              status,
              statusText,
              headers: responseHeaders,
              // One chunk is the common case for a small answer: no copy.
              body: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8'),
            }),
          );
        },
        onResponseError(_controller, error) {
          const code = (error as NodeJS.ErrnoException).code;
          settle(() => reject(REQUEST_ERRORS.has(code) && !timedOut ? error : new AttemptError(timedOut, !responded && RETRYABLE_ERRORS.has(code))));
        },
      };
      try {
        poolFor(url).dispatch({ origin: url.origin, path: `${url.pathname}${url.search}`, method: method as Dispatcher.HttpMethod, headers, body }, handler);
      } catch (error) {
        settle(() => reject(error));
      }
    });

  /**
   * An exchange through the breaker, retried for queries. `query` is undefined until it matters:
   * deciding it parses the body, which only a failure pays for.
   */
  const exchange = async (url: URL, method: string, headers: Record<string, string>, body: string, query: boolean | undefined) => {
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      // cockatiel lets callers wait for a half-open trial to finish (up to a whole deadline when
      // the subgraph hangs); fail them at once instead, as while open.
      if (breaker.state === CircuitState.HalfOpen) throw unavailable();
      let retryable: boolean;
      try {
        const response = await breaker.execute(() => send(url, method, headers, body));
        if (response.status < 500) return response;
        retryable = RETRYABLE_STATUSES.has(response.status);
      } catch (error) {
        // Open: fail at once. Anything but a network failure (a header Node refuses) is no sign
        // of the subgraph's health, but the client still only learns "unavailable".
        if (!(error instanceof AttemptError)) throw unavailable();
        // A deadline is never retried: it has used the budget of an attempt already, the subgraph
        // may still be working on it, and a hanging subgraph would get twice the load.
        if (error.timedOut) throw deadlineExceeded();
        retryable = error.retryable;
      }
      if (!retryable || attempt >= retry.maxAttempts) throw unavailable();
      query ??= isQuery(body);
      if (!query) throw unavailable();
      const delay = Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      if (performance.now() - started + delay + timeoutMs > retry.budgetMs) throw unavailable();
      await sleep(delay);
    }
  };

  const start = (url: URL, method: string, headers: Record<string, string>, body: string): Promise<BufferedResponse> => {
    let pending: Promise<BufferedResponse>;
    const key = options.coalesce && isQuery(body) ? coalescingKey(url, headers, body) : null;
    if (key) {
      const shared = inflight.get(key);
      if (shared) {
        pending = shared;
      } else {
        pending = exchange(url, method, headers, body, true).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
    } else {
      pending = exchange(url, method, headers, body, undefined);
    }
    return pending;
  };

  const fetcher = async (input: string, init: FetcherInit = {}) => {
    // No body sends the same bytes as an empty one (Content-Length: 0 on a POST, nothing on a GET).
    const response = await start(new URL(input), init.method ?? 'POST', flattenHeaders(init.headers), init.body ?? '');
    // Each caller gets its own Response: a body can be read only once.
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers: toHeaders(response.headers) });
  };
  return Object.assign(fetcher, {
    exchange: start,
    health: (): SubgraphHealth => ({ state: stateName(breaker.state), consecutiveFailures: counter.state }),
    destroy() {
      for (const pool of pools.values()) void pool.destroy();
      pools.clear();
    },
  });
}

/** Why an attempt failed, decided where it failed (a deadline hit mid-body surfaces as "aborted"). */
class AttemptError extends Error {
  override name = 'AttemptError';
  readonly timedOut: boolean;
  readonly retryable: boolean;
  constructor(timedOut: boolean, retryable: boolean) {
    super(timedOut ? 'deadline exceeded' : 'request failed');
    this.timedOut = timedOut;
    this.retryable = retryable;
  }
}

function stateName(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return 'closed';
  if (state === CircuitState.HalfOpen) return 'half-open';
  return 'open'; // Open, or Isolated (held open by hand)
}

function check(name: string, option: string, value: number, min: number): void {
  if (!(value >= min)) throw new RangeError(`Subgraph ${name}: ${option} must be a number ≥ ${min}, got ${value}`);
}

function flattenHeaders(headers: Record<string, string> | Headers | undefined): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function toHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) result.append(name, item);
  }
  return result;
}

/**
 * Only queries may be shared or retried; a mutation or subscription always gets exactly one
 * request. A document that starts otherwise (a fragment first) counts as "not a query": safe.
 */
function isQuery(body: string): boolean {
  try {
    const { query } = JSON.parse(body) as { query?: unknown };
    return typeof query === 'string' && /^\s*(query\b|\{)/.test(query);
  } catch {
    return false;
  }
}

function coalescingKey(url: URL, headers: Record<string, string>, body: string): string {
  const identity = CALLER_HEADERS.map((name) => headers[name] ?? '').join('\u0000');
  return `${url.href}\u0000${identity}\u0000${body}`;
}
