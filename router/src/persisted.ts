/**
 * Persisted operations: a manifest of the operations first-party clients send (Apollo's
 * persisted-query manifest format, which clients/web generates from its .graphql files), read once
 * at start into a Map by id.
 *
 * - `apq` (default): anything goes as before (free text, automatic persisted queries); an id from
 *   the manifest is also accepted without the client ever registering it.
 * - `safelist`: only the manifest's operations run: by id (`extensions.persistedQuery.sha256Hash`
 *   equal to a manifest id), or as free text whose SHA-256 is the hash of a manifest body. Anything
 *   else, APQ registrations included, is a 400 with PERSISTED_QUERY_NOT_IN_SAFELIST.
 *
 * It runs in the router's `prepare` step, before the operation limits: an id becomes the
 * manifest's text in the request itself, so the limits (and Apollo) see the text they always see.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError, HttpError, type PreparedRequest } from '@commerce/service-kit/core';
import { z } from 'zod';

export const PERSISTED_MODES = ['apq', 'safelist'] as const;
export type PersistedMode = (typeof PERSISTED_MODES)[number];

export const NOT_IN_SAFELIST = 'PERSISTED_QUERY_NOT_IN_SAFELIST';

const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().min(1).max(200),
      name: z.string(),
      type: z.enum(['query', 'mutation', 'subscription']),
      body: z.string().min(1),
    }),
  ),
});

export type PersistedQueryManifest = z.infer<typeof manifestSchema>;
export type ManifestOperation = PersistedQueryManifest['operations'][number];

export interface PersistedOperationsOptions {
  manifest: PersistedQueryManifest;
  mode: PersistedMode;
}

/** Checks a parsed manifest; every problem is a ConfigError naming where it came from. */
export function parseManifest(json: unknown, source = 'the manifest'): PersistedQueryManifest {
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((issue) => `  - ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new ConfigError(`${source} is not an Apollo persisted-query manifest ({ format: "apollo-persisted-query-manifest", version: 1, operations: [{ id, name, type, body }] }):\n${problems.join('\n')}`);
  }
  const ids = new Set<string>();
  for (const operation of parsed.data.operations) {
    if (ids.has(operation.id)) throw new ConfigError(`${source} lists the id ${operation.id} twice`);
    ids.add(operation.id);
  }
  return parsed.data;
}

/** Reads PERSISTED_OPERATIONS at start: a missing or malformed file stops the router, naming it. */
export async function loadManifest(path: string): Promise<PersistedQueryManifest> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`Cannot read the persisted operations manifest at ${path} (PERSISTED_OPERATIONS): ${error.code ?? error.message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`The persisted operations manifest at ${path} (PERSISTED_OPERATIONS) is not JSON`);
  }
  return parseManifest(json, `The persisted operations manifest at ${path}`);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The per-request step: resolves manifest ids to their text (rewriting the request in place, so
 * everything after it sees a plain operation) and, in safelist mode, refuses what the manifest
 * does not hold. Returns the manifest operation the request runs, if any.
 */
export function createPersistedOperations(options: PersistedOperationsOptions) {
  const byId = new Map<string, ManifestOperation>();
  const byBodyHash = new Map<string, ManifestOperation>();
  for (const operation of options.manifest.operations) {
    byId.set(operation.id, operation);
    byBodyHash.set(sha256(operation.body), operation);
  }
  const safelist = options.mode === 'safelist';

  return (request: PreparedRequest): ManifestOperation | null => {
    const source = requestParts(request);
    if (!source) return null; // not a single operation: Apollo refuses it by itself
    if (typeof source.query === 'string' && source.query.length > 0) {
      if (!safelist) return null;
      const known = byBodyHash.get(sha256(source.query));
      if (!known) throw notInSafelist('This router runs only the operations in its safelist, and this operation text is not one of them.');
      // Run it as the plain text it is: an APQ registration riding along is not needed, and no
      // hash a client attaches is ever stored.
      source.dropPersistedQuery();
      return known;
    }
    const hash = source.persistedHash;
    if (hash === undefined) return null;
    const known = byId.get(hash);
    if (known) {
      source.setQuery(known.body);
      return known;
    }
    if (safelist) {
      throw notInSafelist('This router runs only the operations in its safelist, and no operation in it has this id (extensions.persistedQuery.sha256Hash).');
    }
    return null; // apq: Apollo looks the hash up in its APQ cache (PERSISTED_QUERY_NOT_FOUND if it never saw it)
  };
}

function notInSafelist(message: string): HttpError {
  return new HttpError(400, NOT_IN_SAFELIST, `${message} Send the id of an operation from the manifest your client was built with.`);
}

interface RequestParts {
  query: unknown;
  persistedHash: string | undefined;
  setQuery(text: string): void;
  dropPersistedQuery(): void;
}

/** The parts of a GET or JSON POST that name an operation, and how to rewrite them in place. */
function requestParts(request: PreparedRequest): RequestParts | null {
  if (request.method === 'GET') {
    const params = request.url.searchParams;
    let extensions: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = params.has('extensions') ? JSON.parse(params.get('extensions') ?? 'null') : null;
      extensions = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null; // Apollo answers malformed parameters itself
    }
    const withoutPersisted = () => {
      const { persistedQuery: _dropped, ...rest } = extensions ?? {};
      if (Object.keys(rest).length > 0) params.set('extensions', JSON.stringify(rest));
      else params.delete('extensions');
    };
    return {
      query: params.get('query'),
      persistedHash: hashOf(extensions),
      setQuery(text) {
        params.set('query', text);
        withoutPersisted();
      },
      dropPersistedQuery: withoutPersisted,
    };
  }
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const fields = body as Record<string, unknown>;
  const extensions = fields.extensions && typeof fields.extensions === 'object' && !Array.isArray(fields.extensions) ? (fields.extensions as Record<string, unknown>) : null;
  const withoutPersisted = () => {
    if (!extensions || !('persistedQuery' in extensions)) return;
    const { persistedQuery: _dropped, ...rest } = extensions;
    fields.extensions = rest;
  };
  return {
    query: fields.query,
    persistedHash: hashOf(extensions),
    setQuery(text) {
      fields.query = text;
      withoutPersisted();
    },
    dropPersistedQuery: withoutPersisted,
  };
}

function hashOf(extensions: Record<string, unknown> | null): string | undefined {
  const persisted = extensions?.persistedQuery;
  if (!persisted || typeof persisted !== 'object') return undefined;
  const hash = (persisted as { sha256Hash?: unknown }).sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}
