// Command-line options of `npm run schema:check`. Every default is relative to the folder of
// supergraph.yaml, so a fixture project (tests) and the repository behave the same way.
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SUPERGRAPH_CONFIG } from '../composition.ts';

/** Exit code 2: the command was called wrongly or its inputs cannot be read; no check ran. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Client operation folders checked when no --operations is given; a new client adds its folder
 * here. The storefront's operations live beside its components (clients/web/src/**\/*.graphql), so
 * a subgraph change that breaks the storefront fails the check.
 */
export const DEFAULT_OPERATION_DIRS = ['router/operations', 'clients/web/src'];
export const DEFAULT_SUPERGRAPH = 'router/supergraph.graphql';
export const DEFAULT_APPROVALS = 'router/schema-approvals.json';

export type BaseSpec =
  | { kind: 'default' } // git merge-base HEAD main, with fallbacks (see base.ts)
  | { kind: 'rev'; rev: string }
  | { kind: 'file'; file: string };

export interface SchemaCheckOptions {
  configFile: string;
  /** Folder of supergraph.yaml: the project root every default and every shown path is relative to. */
  root: string;
  supergraphFile: string;
  base: BaseSpec;
  approvalsFile: string;
  /** A missing default approvals file means "no approvals"; a missing explicit one is an error. */
  approvalsExplicit: boolean;
  operationDirs: { dir: string; explicit: boolean }[];
  jsonFile: string | null;
}

export const USAGE = `usage: schema-check [options]
  --base <rev>            git revision to compare with (default: git merge-base HEAD main)
  --base-file <file>      compare with this supergraph file instead of a git revision
  --approvals <file>      approved breaking changes (default: ${DEFAULT_APPROVALS})
  --operations <dir>      folder of client .graphql operations; repeat for several
                          (default: ${DEFAULT_OPERATION_DIRS.join(', ')})
  --json <file>           also write the report as JSON to this file
  --config <file>         supergraph config (default: supergraph.yaml)
  --supergraph <file>     committed supergraph (default: ${DEFAULT_SUPERGRAPH})
  --help                  show this help`;

/** Parses argv; returns null for --help. Throws UsageError on anything it does not understand. */
export function parseOptions(argv: readonly string[], cwd = process.cwd()): SchemaCheckOptions | null {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        base: { type: 'string' },
        'base-file': { type: 'string' },
        approvals: { type: 'string' },
        operations: { type: 'string', multiple: true },
        json: { type: 'string' },
        config: { type: 'string' },
        supergraph: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  if (values.base !== undefined && values['base-file'] !== undefined) {
    throw new UsageError('--base and --base-file cannot be used together');
  }
  for (const name of ['base', 'base-file', 'approvals', 'json', 'config', 'supergraph'] as const) {
    if (values[name] === '') throw new UsageError(`--${name} needs a value`);
  }

  const configFile = values.config ? resolve(cwd, values.config) : SUPERGRAPH_CONFIG;
  const root = dirname(configFile);
  const base: BaseSpec =
    values['base-file'] !== undefined
      ? { kind: 'file', file: resolve(cwd, values['base-file']) }
      : values.base !== undefined
        ? { kind: 'rev', rev: values.base }
        : { kind: 'default' };
  return {
    configFile,
    root,
    supergraphFile: resolve(values.supergraph ? cwd : root, values.supergraph ?? DEFAULT_SUPERGRAPH),
    base,
    approvalsFile: resolve(values.approvals ? cwd : root, values.approvals ?? DEFAULT_APPROVALS),
    approvalsExplicit: values.approvals !== undefined,
    operationDirs: values.operations
      ? values.operations.map((dir) => ({ dir: resolve(cwd, dir), explicit: true }))
      : DEFAULT_OPERATION_DIRS.map((dir) => ({ dir: resolve(root, dir), explicit: false })),
    jsonFile: values.json !== undefined ? resolve(cwd, values.json) : null,
  };
}
