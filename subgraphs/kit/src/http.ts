import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { describeError, type Logger } from './logger.ts';

/**
 * The one HTTP layer every server here uses (subgraphs and router): plain node:http in front of
 * Apollo Server, with a body limit, JSON errors for malformed requests, CORS, security headers, a
 * request id on every request, one access-log line per GraphQL request, and the /health and /ready
 * probes. Explicit instead of `startStandaloneServer`, which allows any origin, 50 MB bodies and
 * HTML stack traces.
 */
export interface HttpOptions<Context extends BaseContext, Info = BasicRequestInfo> {
  apollo: ApolloServer<Context>;
  logger: Logger;
  /**
   * Runs once the body is read and before Apollo sees the request: authenticates, checks limits,
   * and returns what the request's context is built from. Throw an HttpError to refuse it.
   */
  prepare?: (request: PreparedRequest) => Promise<Info>;
  context: (info: Info) => Promise<Context>;
  graphqlPath?: string;
  maxBodyBytes?: number;
  /** Allowed browser origins; `'*'` for any; empty for none (server-to-server only). */
  corsOrigins?: readonly string[] | '*';
  /** Let browsers send cookies/credentials (only ever with an explicit origin list, never with `*`). */
  corsCredentials?: boolean;
  /** Readiness: 200 when `ready` is true, 503 otherwise; the rest is shown as the body. */
  readiness?: () => Promise<{ ready: boolean } & Record<string, unknown>>;
  /**
   * A page for browsers at the GraphQL path (an IDE): answers a GET or HEAD of `graphqlPath` whose
   * Accept header ranks text/html above JSON, as Apollo decides for its landing page. Every other
   * request there (POST, a client asking for JSON or for any type) goes to Apollo. It gets the
   * same headers and request id; it sets its own content type, CSP and caching.
   */
  htmlPage?: (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;
  /** Extra GET routes by exact path (e.g. a JWKS document); they get the same headers and request id. */
  routes?: Readonly<Record<string, (request: IncomingMessage, response: ServerResponse) => Promise<void> | void>>;
  /** Routes for every method by exact path (service-to-service endpoints); each checks its own caller. */
  internalRoutes?: Readonly<Record<string, (request: IncomingMessage, response: ServerResponse, requestId: string) => Promise<void> | void>>;
  /** The level of the one access-log line per GraphQL request (default debug). */
  accessLog?: 'info' | 'debug';
  /** How many reverse proxies in front of this server append to X-Forwarded-For (default 0: use the socket's address). */
  trustProxyHops?: number;
  /** Adds Strict-Transport-Security (production behind TLS). */
  hsts?: boolean;
  /** Echo the request id in an `x-request-id` response header (default true). */
  echoRequestId?: boolean;
}

/** What the HTTP layer knows about a GraphQL request before Apollo sees it. */
export interface PreparedRequest {
  raw: IncomingMessage;
  method: string;
  url: URL;
  /** The parsed JSON body (POST), or undefined (GET). */
  body: unknown;
  /** The body exactly as received, for signature checks. */
  rawBody: string;
  requestId: string;
  clientIp: string;
}

export interface BasicRequestInfo {
  requestId: string;
  clientIp: string;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish (up to the grace period), then closes. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A refusal with its HTTP status and error code; the layer answers it as a JSON GraphQL error. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, unknown>>;
  constructor(status: number, code: string, message: string, options: { headers?: Record<string, string>; extensions?: Record<string, unknown> } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/** Security headers for API responses: nothing here is meant to be rendered, framed or cached. */
function securityHeaders(hsts: boolean): [string, string][] {
  const headers: [string, string][] = [
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['referrer-policy', 'no-referrer'],
    ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
    ['cross-origin-opener-policy', 'same-origin'],
    ['cache-control', 'no-store'],
  ];
  if (hsts) headers.push(['strict-transport-security', 'max-age=31536000; includeSubDomains']);
  return headers;
}

export function createHttpHandler<Context extends BaseContext, Info = BasicRequestInfo>(options: HttpOptions<Context, Info>) {
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const headers = securityHeaders(options.hsts ?? false);
  const echoRequestId = options.echoRequestId ?? true;
  const logAccess = options.accessLog === 'info' ? options.logger.info : options.logger.debug;

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = performance.now();
    const offered = request.headers['x-request-id'];
    const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
    for (const [name, value] of headers) response.setHeader(name, value);
    if (echoRequestId) response.setHeader('x-request-id', requestId);
    const url = new URL(request.url ?? '/', 'http://localhost');
    try {
      applyCors(request, response, options.corsOrigins ?? [], options.corsCredentials ?? false);
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
      const route = options.routes?.[url.pathname];
      if (route && (request.method === 'GET' || request.method === 'HEAD')) {
        await route(request, response);
        return;
      }
      if (options.htmlPage && url.pathname === graphqlPath && (request.method === 'GET' || request.method === 'HEAD') && prefersHtml(request.headers.accept)) {
        await options.htmlPage(request, response);
        return;
      }
      const internal = options.internalRoutes?.[url.pathname];
      if (internal) {
        await internal(request, response, requestId);
        return;
      }
      if (url.pathname !== graphqlPath) {
        throw new HttpError(404, 'NOT_FOUND', `Not found: ${url.pathname.slice(0, 200)}`);
      }
      let body: unknown;
      let info: Info | undefined;
      // One line per GraphQL request, refused ones included, written when the exchange ends.
      response.once('close', () => {
        logAccess('request', {
          method: request.method,
          operationName: operationNameOf(body, url),
          status: response.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          userId: userIdOf(info),
          requestId,
          ...(response.writableFinished ? {} : { aborted: true }),
        });
      });
      const clientIp = clientAddress(request, options.trustProxyHops ?? 0);
      const rawBody = request.method === 'POST' ? await readBody(request, maxBody) : '';
      body = request.method === 'POST' ? parseBody(request.headers['content-type'], rawBody) : undefined;
      const prepared: PreparedRequest = { raw: request, method: request.method ?? 'GET', url, body, rawBody, requestId, clientIp };
      info = options.prepare ? await options.prepare(prepared) : ({ requestId, clientIp } as Info);
      await handleGraphQL(options, request, response, url, body, info);
    } catch (error) {
      if (error instanceof HttpError) {
        for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
        sendJson(response, error.status, { errors: [{ message: error.message, extensions: { code: error.code, ...error.extensions, requestId } }] });
        return;
      }
      // A request whose body was read in full is destroyed too (autoDestroy): only one cut short
      // before its end, or a response whose socket is gone, means the client left.
      if ((request.destroyed && !request.complete) || response.destroyed) {
        // The client went away (closed the tab, timed out): nothing to answer and nothing wrong here.
        options.logger.debug('request aborted by the client', { requestId });
        return;
      }
      options.logger.error('request failed', { requestId, ...describeError(error) });
      if (!response.headersSent) {
        sendJson(response, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }] });
      } else {
        response.destroy();
      }
    }
  };
}

/**
 * Whether an Accept header ranks text/html above the GraphQL response types, the way Apollo Server
 * decides to show its landing page (negotiator: higher q wins, then the more specific range, then
 * the earlier one; on a tie JSON wins, so "any type" and no header mean JSON).
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(',').map((part, index) => {
    const [range = '', ...params] = part.split(';').map((piece) => piece.trim());
    const q = params.find((param) => param.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    return { range: range.toLowerCase(), q: Number.isFinite(quality) ? quality : 1, index };
  });
  const match = (type: string) => {
    const major = type.split('/')[0];
    let best: { q: number; specificity: number; index: number } | undefined;
    for (const { range, q, index } of ranges) {
      const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
      if (specificity >= 0 && (!best || specificity > best.specificity)) best = { q, specificity, index };
    }
    return best;
  };
  const html = match('text/html');
  if (!html || html.q <= 0) return false;
  return ['application/json', 'application/graphql-response+json', 'multipart/mixed'].every((type) => {
    const other = match(type);
    if (!other || other.q < html.q) return true;
    if (other.q > html.q) return false;
    return html.specificity > other.specificity || (html.specificity === other.specificity && html.index < other.index);
  });
}

function userIdOf(info: unknown): number | null {
  const viewer = (info as { viewer?: { userId?: unknown } } | null)?.viewer;
  return typeof viewer?.userId === 'number' ? viewer.userId : null;
}

function operationNameOf(body: unknown, url: URL): string | null {
  const name = body && typeof body === 'object' && 'operationName' in body ? body.operationName : url.searchParams.get('operationName');
  return typeof name === 'string' ? name.slice(0, 100) : null;
}

/**
 * The client's address: the socket's, or with `hops` trusted proxies in front, the address the
 * outermost trusted proxy saw (X-Forwarded-For is appended to by each proxy; earlier entries are
 * whatever the client claimed).
 */
function clientAddress(request: IncomingMessage, hops: number): string {
  const socketAddress = request.socket.remoteAddress ?? 'unknown';
  if (hops <= 0) return socketAddress;
  // Every X-Forwarded-For line, in order (a proxy may add its own line instead of appending).
  const chain = (request.headersDistinct['x-forwarded-for'] ?? []).join(',').split(',').map((s) => s.trim()).filter(Boolean);
  return chain[chain.length - hops] ?? chain[0] ?? socketAddress;
}

async function handleGraphQL<Context extends BaseContext, Info>(
  options: HttpOptions<Context, Info>,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  body: unknown,
  info: Info,
): Promise<void> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const result = await options.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method ?? 'GET', headers, search: url.search, body },
    context: () => options.context(info),
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

/**
 * How much of a refused body is read and thrown away, and for how long, so that the client is
 * still writing into an open connection when our 413 reaches it. Closing at once makes the
 * client's next write fail (EPIPE, or a reset), and many clients then drop the connection
 * before reading the answer waiting in it. Beyond either bound the connection is closed.
 */
export const DISCARD_BYTES = 256 * 1024;
export const DISCARD_MS = 5_000;

/**
 * Reads a request body up to `maxBytes`: 413 above it, declared or streamed. A refused body
 * within DISCARD_BYTES of the limit is read to its end and dropped, keeping the connection. A
 * declared length past that gets `connection: close` at once; a streamed body that goes past it
 * is cut (its 413 already sent).
 */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = (close: boolean) =>
    new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes`, close ? { headers: { connection: 'close' } } : {});
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    const close = declared > maxBytes + DISCARD_BYTES;
    discardRest(request, close ? Infinity : DISCARD_BYTES);
    return Promise.reject(tooLarge(close));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = () => {
      request.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      settle();
      discardRest(request, DISCARD_BYTES);
      reject(tooLarge(false));
    };
    const onEnd = () => {
      settle();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      settle();
      reject(error);
    };
    // The client went away before the end: the handler sees a destroyed, incomplete request.
    const onClose = () => onError(new Error('request closed before its body ended'));
    request.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Reads and drops the rest of a refused body, up to `budget` bytes and DISCARD_MS; past either, closes. */
function discardRest(request: IncomingMessage, budget: number): void {
  if (request.complete) return;
  let discarded = 0;
  const close = () => request.socket?.destroy();
  const timer = setTimeout(close, DISCARD_MS);
  timer.unref();
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > budget) close();
  };
  // Once the body has ended, the connection may carry the client's next request: leave it be.
  const done = () => {
    clearTimeout(timer);
    request.off('data', onData);
  };
  request.on('data', onData).once('end', done).once('close', done);
  request.resume();
}

function applyCors(request: IncomingMessage, response: ServerResponse, allowed: readonly string[] | '*', credentials: boolean): void {
  const origin = request.headers.origin;
  if (!origin) return;
  if (allowed !== '*' && !allowed.includes(origin)) return;
  const anyOrigin = allowed === '*';
  response.setHeader('access-control-allow-origin', anyOrigin ? '*' : origin);
  response.setHeader('vary', 'origin');
  if (credentials && !anyOrigin) response.setHeader('access-control-allow-credentials', 'true');
  response.setHeader('access-control-expose-headers', 'x-request-id, retry-after');
  if (request.method === 'OPTIONS') {
    response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    response.setHeader('access-control-allow-headers', 'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, x-request-id');
    response.setHeader('access-control-max-age', '600');
  }
}

export function sendJson(response: ServerResponse, status: number, payload: unknown): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(payload));
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Give up on a client that has not sent its headers within this (slowloris). Default 10 s. */
  headersTimeoutMs?: number;
  /** Give up on a request (headers and body) not complete within this. Default 30 s. */
  requestTimeoutMs?: number;
  /** Largest request header block; larger ones get 431. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** On close, how long in-flight requests may take before their connections are cut. Default 10 s. */
  shutdownGraceMs?: number;
}

/** Listens on host:port (0 = any free port) and resolves once the socket is bound. */
export async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void | Promise<void>,
  options: ListenOptions,
): Promise<RunningServer> {
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeout);
  const server = createServer(
    {
      maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
      headersTimeout,
      requestTimeout,
      // How often Node checks the two timeouts above; its default (30 s) would let a slow client
      // hold a socket far past them.
      connectionsCheckingInterval: Math.min(1_000, headersTimeout),
    },
    (request, response) => {
      inFlight++;
      response.once('close', () => {
        inFlight--;
        if (inFlight === 0) drained?.();
      });
      if (closing) {
        response.setHeader('connection', 'close');
        // Draining: tell load balancers to stop sending, while in-flight requests finish.
        if (request.url === '/ready') {
          sendJson(response, 503, { ready: false, draining: true });
          return;
        }
      }
      void handler(request, response);
    },
  );
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  // Longer than common proxy/gateway idle timeouts, so the peer closes first and never reuses a dead socket.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return {
    server,
    port: bound,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound}`,
    async close() {
      closing = true;
      // Also closes the idle keep-alive connections (Node >= 19).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (inFlight > 0) {
        const grace = new Promise<void>((resolve) => setTimeout(resolve, options.shutdownGraceMs ?? 10_000).unref());
        await Promise.race([new Promise<void>((resolve) => (drained = resolve)), grace]);
      }
      server.closeAllConnections();
      await closed;
    },
  };
}
