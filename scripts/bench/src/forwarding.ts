import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers a proxy never forwards (and the length, which it sets for the body it sends). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

/** A request's headers as the benchmark's proxies forward them: hop-by-hop ones left out, repeated ones joined. */
export function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) forwarded[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return forwarded;
}
