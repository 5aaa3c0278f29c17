import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { describeError, type Logger } from './logger.ts';

/**
 * The one HTTP layer every server here uses (subgraphs and router): plain node:http in front of
 * Apollo Server, with a body limit, JSON errors for malformed requests, CORS, and the
 * /health and /ready probes. Explicit instead of `startStandaloneServer`, which allows any
 * origin, 50 MB bodies and HTML stack traces.
 */
export interface HttpOptions<Context extends BaseContext> {
  apollo: ApolloServer<Context>;
  context: (request: IncomingMessage) => Promise<Context>;
  logger: Logger;
  graphqlPath?: string;
  maxBodyBytes?: number;
  /** Allowed browser origins; `'*'` for any; empty for none (server-to-server only). */
  corsOrigins?: readonly string[] | '*';
  /** Readiness: 200 when `ready` is true, 503 otherwise; the rest is shown as the body. */
  readiness?: () => Promise<{ ready: boolean } & Record<string, unknown>>;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 1024 * 1024;

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function createHttpHandler<Context extends BaseContext>(options: HttpOptions<Context>) {
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    try {
      applyCors(request, response, options.corsOrigins ?? []);
      if (request.method === 'OPTIONS') {
        response.writeHead(204).end();
        return;
      }
      if (url.pathname === '/health') {
        sendJson(response, 200, { status: 'ok' });
        return;
      }
      if (url.pathname === '/ready') {
        const state = options.readiness ? await options.readiness() : { ready: true };
        sendJson(response, state.ready ? 200 : 503, state);
        return;
      }
      if (url.pathname !== graphqlPath) {
        sendJson(response, 404, { errors: [{ message: `Not found: ${url.pathname}`, extensions: { code: 'NOT_FOUND' } }] });
        return;
      }
      await handleGraphQL(options, request, response, url, maxBody);
    } catch (error) {
      if (error instanceof HttpError) {
        sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code } }] });
        return;
      }
      options.logger.error('request failed', describeError(error));
      if (!response.headersSent) {
        sendJson(response, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      } else {
        response.destroy();
      }
    }
  };
}

async function handleGraphQL<Context extends BaseContext>(
  options: HttpOptions<Context>,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  maxBody: number,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const body = request.method === 'POST' ? parseBody(headers.get('content-type'), await readBody(request, maxBody)) : undefined;

  const result = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method ?? 'GET', headers, search: url.search, body },
    context: () => options.context(request),
  });

  for (const [name, value] of result.headers) response.setHeader(name, value);
  response.statusCode = result.status ?? 200;
  if (result.body.kind === 'complete') {
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}

function parseBody(contentType: string | undefined, raw: string): unknown {
  if (!contentType?.includes('json')) return raw;
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body is not valid JSON');
  }
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.resume();
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function applyCors(request: IncomingMessage, response: ServerResponse, allowed: readonly string[] | '*'): void {
  const origin = request.headers.origin;
  if (!origin) return;
  if (allowed !== '*' && !allowed.includes(origin)) return;
  response.setHeader('access-control-allow-origin', allowed === '*' ? '*' : origin);
  response.setHeader('vary', 'origin');
  if (request.method === 'OPTIONS') {
    response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    response.setHeader(
      'access-control-allow-headers',
      request.headers['access-control-request-headers'] ?? 'content-type, authorization, apollo-require-preflight',
    );
    response.setHeader('access-control-max-age', '600');
  }
}

function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(payload));
}

/** Listens on host:port (0 = any free port) and resolves once the socket is bound. */
export async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void | Promise<void>,
  { host, port }: { host: string; port: number },
): Promise<RunningServer> {
  const server = createServer((request, response) => void handler(request, response));
  // Longer than common proxy/gateway idle timeouts, so the peer closes first and never reuses a dead socket.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server,
    port: bound,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish; then the rest are cut.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}
