import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { GraphQLError, parse, Source, type DocumentNode } from 'graphql';
import { parse as parseYaml } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SUPERGRAPH_CONFIG = resolve(REPO_ROOT, 'supergraph.yaml');
export const SUPERGRAPH_FILE = resolve(REPO_ROOT, 'router/supergraph.graphql');

export interface SubgraphSource {
  name: string;
  url: string;
  /** Absolute path of the subgraph's schema.graphql. */
  file: string;
  sdl: string;
}

export interface CompositionProblem {
  subgraph: string | null;
  code: string;
  message: string;
  /** `path:line:column` of the first offending node, when composition points at one. */
  location: string | null;
}

export type CompositionOutcome =
  | { ok: true; supergraphSdl: string; hints: string[] }
  | { ok: false; problems: CompositionProblem[] };

/** Reads supergraph.yaml (Rover's format): subgraph name → routing URL and schema file. */
export async function readSubgraphs(configFile = SUPERGRAPH_CONFIG): Promise<SubgraphSource[]> {
  const config = parseYaml(await readFile(configFile, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  const base = dirname(configFile);
  return Promise.all(
    Object.entries(config.subgraphs ?? {}).map(async ([name, entry]) => {
      if (!entry.routing_url || !entry.schema?.file) {
        throw new Error(`${configFile}: subgraph "${name}" needs routing_url and schema.file`);
      }
      const file = resolve(base, entry.schema.file);
      return { name, url: entry.routing_url, file, sdl: await readFile(file, 'utf8') };
    }),
  );
}

/** Composes the subgraphs; every error names its subgraph, its code and where it points. */
export function compose(subgraphs: readonly SubgraphSource[]): CompositionOutcome {
  const problems: CompositionProblem[] = [];
  const services: { name: string; url: string; typeDefs: DocumentNode }[] = [];
  for (const subgraph of subgraphs) {
    try {
      services.push({ name: subgraph.name, url: subgraph.url, typeDefs: parse(new Source(subgraph.sdl, subgraph.file)) });
    } catch (error) {
      problems.push(describe(error, subgraph.name));
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const result = composeServices(services);
  if (result.errors) return { ok: false, problems: result.errors.map((error) => describe(error, null)) };
  return { ok: true, supergraphSdl: result.supergraphSdl, hints: result.hints.map((hint) => hint.toString()) };
}

function describe(error: unknown, subgraph: string | null): CompositionProblem {
  if (!(error instanceof GraphQLError)) {
    return { subgraph, code: 'UNKNOWN', message: String(error), location: null };
  }
  const code = typeof error.extensions.code === 'string' ? error.extensions.code : 'INVALID_GRAPHQL';
  // Composition prefixes messages with "[subgraph] "; keep it as the subgraph name.
  const named = /^\[([^\]]+)\]\s*/.exec(error.message);
  const node = error.nodes?.find((n) => n.loc);
  const loc = node?.loc ?? null;
  let location: string | null = null;
  if (loc) {
    const before = loc.source.body.slice(0, loc.start).split('\n');
    location = `${relative(REPO_ROOT, loc.source.name)}:${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
  } else if (error.source && error.locations?.[0]) {
    location = `${relative(REPO_ROOT, error.source.name)}:${error.locations[0].line}:${error.locations[0].column}`;
  }
  return {
    subgraph: subgraph ?? named?.[1] ?? null,
    code,
    message: named ? error.message.slice(named[0].length) : error.message,
    location,
  };
}

export function formatProblems(problems: readonly CompositionProblem[]): string {
  return problems
    .map((p) => `✗ ${p.subgraph ?? 'supergraph'} ${p.code}${p.location ? ` at ${p.location}` : ''}\n  ${p.message.replace(/\n/g, '\n  ')}`)
    .join('\n');
}
