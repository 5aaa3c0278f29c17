// The router-only scenario's stand-in for the five subgraphs: one process, one port per subgraph,
// answering each request from memory by its exact body. A body seen for the first time is sent on
// to the real subgraph (headers and body untouched, so the gateway's signature still holds), and
// the answer is kept: every later request with that body is answered from memory without the
// subgraph, its database or PostgreSQL doing anything. Nothing is checked: it is a fake, and the
// gateway in front of it is what is measured. Requests that are not POSTs to /graphql (the JWKS,
// probes) are passed through every time.
// Counters (IPC `stats`): requests = every request answered at the GraphQL path, statements =
// the misses among them (sent on to the real subgraph).
// Argument: <JSON: { name: upstream URL } of the real subgraphs>.
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardedHeaders } from '../forwarding.ts';
import { send, serveCounters, startChild } from '../ipc.ts';

interface Recorded {
  status: number;
  contentType: string;
  body: Buffer;
}


function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function forward(upstream: URL, request: IncomingMessage, body: Buffer): Promise<Recorded> {
  const headers: OutgoingHttpHeaders = { ...forwardedHeaders(request.headers), 'content-length': body.length };
  return new Promise((resolve, reject) => {
    const call = httpRequest(new URL(request.url ?? '/', upstream), { method: request.method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 502, contentType: String(response.headers['content-type'] ?? 'application/json'), body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    call.on('error', reject);
    call.end(body);
  });
}

function answer(response: ServerResponse, recorded: Recorded): void {
  response.writeHead(recorded.status, { 'content-type': recorded.contentType, 'content-length': recorded.body.length });
  response.end(recorded.body);
}

await startChild(async () => {
  const upstreams = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
  const counters = { requests: 0, statements: 0 };
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const [name, url] of Object.entries(upstreams)) {
    const upstream = new URL(url);
    const memory = new Map<string, Recorded>();
    // A body being recorded: concurrent requests with it wait for the same answer.
    const recording = new Map<string, Promise<Recorded>>();
    const server = createServer(async (request, response) => {
      try {
        const body = await readBody(request);
        if (request.method !== 'POST' || !request.url?.startsWith(upstream.pathname)) {
          answer(response, await forward(upstream, request, body));
          return;
        }
        counters.requests++;
        const key = body.toString('utf8');
        const known = memory.get(key);
        if (known) {
          answer(response, known);
          return;
        }
        let pending = recording.get(key);
        if (!pending) {
          counters.statements++;
          pending = forward(upstream, request, body).then((recorded) => {
            // Only answers worth replaying: a refused or failed exchange is tried again next time.
            if (recorded.status === 200) memory.set(key, recorded);
            return recorded;
          });
          recording.set(key, pending);
          void pending.finally(() => recording.delete(key)).catch(() => {});
        }
        answer(response, await pending);
      } catch (error) {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`replay of ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}${upstream.pathname}`;
  }
  serveCounters(counters, async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });
  send({ type: 'ready', url: JSON.stringify(urls) });
});
