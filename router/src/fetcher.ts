import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ErrorCode } from '@commerce/service-kit/core';
import { GraphQLError } from 'graphql';

/**
 * How the router calls a subgraph: node:http on a keep-alive connection pool (one per subgraph),
 * with a deadline, and errors that name the subgraph but never its internal URL. The gateway has
 * no timeout of its own, and its default fetcher's errors carry the URL.
 */
export interface SubgraphFetcherOptions {
  name: string;
  timeoutMs: number;
  /** Open connections per subgraph, at most. */
  maxSockets: number;
  /**
   * Coalesce identical queries in flight to the same subgraph: one request, every caller gets the
   * answer. Only queries (never mutations), and the key includes the headers that identify the
   * caller, so two users never share a response.
   */
  coalesce: boolean;
}

/** Headers whose values identify a caller: requests differing in them are never coalesced. */
const IDENTITY_HEADERS = ['authorization', 'cookie', 'x-user-id', 'x-api-key'];

interface BufferedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Fetcher = (url: string, init?: { method?: string; headers?: Record<string, string> | Headers; body?: string }) => Promise<Response>;

export function createSubgraphFetcher(options: SubgraphFetcherOptions): Fetcher & { destroy(): void } {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' as const };
  const agent = new Agent(agentOptions);
  const secureAgent = new HttpsAgent(agentOptions);
  const inflight = new Map<string, Promise<BufferedResponse>>();

  const send = (url: URL, method: string, headers: Record<string, string>, body: string | undefined) =>
    new Promise<BufferedResponse>((resolve, reject) => {
      const secure = url.protocol === 'https:';
      const call = (secure ? httpsRequest : httpRequest)(
        url,
        { method, headers, agent: secure ? secureAgent : agent, timeout: options.timeoutMs },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      // The socket timeout covers idle gaps; the deadline covers the whole exchange.
      const deadline = setTimeout(() => call.destroy(new DeadlineError()), options.timeoutMs);
      call.on('timeout', () => call.destroy(new DeadlineError()));
      call.on('error', reject);
      call.on('close', () => clearTimeout(deadline));
      call.end(body);
    });

  const fetcher = async (input: string, init: { method?: string; headers?: Record<string, string> | Headers; body?: string } = {}) => {
    const url = new URL(input);
    const method = init.method ?? 'POST';
    const headers = flattenHeaders(init.headers);
    const body = init.body;
    let exchange: Promise<BufferedResponse>;
    const key = options.coalesce && body !== undefined && isQuery(body) ? coalescingKey(url, headers, body) : null;
    if (key) {
      const pending = inflight.get(key);
      if (pending) {
        exchange = pending;
      } else {
        exchange = send(url, method, headers, body).finally(() => inflight.delete(key));
        inflight.set(key, exchange);
      }
    } else {
      exchange = send(url, method, headers, body);
    }
    try {
      const response = await exchange;
      // Each caller gets its own Response: a body can be read only once.
      return new Response(response.body, { status: response.status, headers: toHeaders(response.headers) });
    } catch (error) {
      const timedOut = error instanceof DeadlineError;
      throw new GraphQLError(
        timedOut ? `The ${options.name} service did not answer within ${options.timeoutMs} ms` : `The ${options.name} service is unavailable`,
        { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName: options.name } },
      );
    }
  };
  return Object.assign(fetcher, {
    destroy() {
      agent.destroy();
      secureAgent.destroy();
    },
  });
}

class DeadlineError extends Error {
  override name = 'DeadlineError';
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

/** Only queries may be shared; a mutation or subscription always gets its own request. */
function isQuery(body: string): boolean {
  try {
    const { query } = JSON.parse(body) as { query?: unknown };
    return typeof query === 'string' && /^\s*(query\b|\{)/.test(query);
  } catch {
    return false;
  }
}

function coalescingKey(url: URL, headers: Record<string, string>, body: string): string {
  const identity = IDENTITY_HEADERS.map((name) => headers[name] ?? '').join('\u0000');
  return `${url.href}\u0000${identity}\u0000${body}`;
}
