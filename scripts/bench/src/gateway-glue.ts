// What stock @apollo/gateway and Hive Gateway need, and nothing more, to be let in by these
// subgraphs: the identity headers of a fixed caller (user 1 with the `admin` scope, as our router
// sends them for an admin's token) and the router's signature over each request as it is sent.
// They verify no token: the benchmark's requests carry one, which only our router checks.
// Imports only the kit's core, so the gateways' processes load nothing else of ours.
import { identityHeaders, signatureHeaders, viewer } from '@commerce/service-kit/core';
import { SERVICE_NAMES, signingSecretVariable } from './services.ts';

/** Who every benchmark request is made as: user 1 (the seed's admin) with the `admin` scope, which is what the subgraphs check. */
export const ADMIN = { userId: 1, scopes: ['admin'] } as const;
const ADMIN_VIEWER = viewer(ADMIN.userId, ADMIN.scopes);

/** The identity headers of an admin request, carrying the client's request id. */
export function adminIdentityHeaders(requestId: string): Record<string, string> {
  return identityHeaders({ viewer: ADMIN_VIEWER, requestId, clientIp: null });
}

/** `request.headers` plus the kit's signature over the method, path, identity headers and the exact body. */
export function signedHeaders(secret: string, url: string, request: { method?: string; headers?: Record<string, string>; body?: unknown }): Record<string, string> {
  if (typeof request.body !== 'string') throw new Error(`cannot sign a request to ${url}: its body is not a string`);
  const { pathname, search } = new URL(url);
  const headers = { ...request.headers };
  return { ...headers, ...signatureHeaders(secret, { method: request.method ?? 'POST', path: `${pathname}${search}`, headers, body: request.body }) };
}

/**
 * Each subgraph's signing secret by the URL the gateway calls it at: names and URLs from the
 * supergraph's `@join__graph`, secrets from `<NAME>_SIGNING_SECRET` in the environment.
 */
export function subgraphSecrets(supergraphSdl: string, env: NodeJS.ProcessEnv = process.env): (url: string) => string {
  const secrets = new Map<string, string>();
  for (const [, name = '', url = ''] of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)) {
    const service = SERVICE_NAMES.find((s) => s === name);
    const secret = service && env[signingSecretVariable(service)];
    if (!secret) throw new Error(`no signing secret for subgraph ${name}${service ? `: set ${signingSecretVariable(service)}` : ''}`);
    secrets.set(url, secret);
  }
  return (url) => {
    const secret = secrets.get(url);
    if (!secret) throw new Error(`no subgraph of the supergraph is at ${url}`);
    return secret;
  };
}
