/**
 * `npm run generate -w @commerce/web` (a turbo task; `npm run web`, the build and the typecheck
 * run it): everything the storefront generates from the supergraph and its own operations, into
 * src/generated/ (git-ignored).
 *
 * 1. schema.graphqls: the API schema clients see, from router/supergraph.graphql (what the router
 *    serves, without federation's machinery), so types never need a running router. (.graphqls:
 *    schema:check reads every .graphql file under src/ as a client operation.)
 * 2. graphql/: GraphQL Code Generator's client preset over src/**\/*.graphql: a typed document
 *    per operation, with `__typename` in every selection (Apollo Client's cache needs it, and the
 *    persisted text must be exactly what runs) and the operation's id in `__meta__.hash`.
 * 3. persisted-query-manifest.json: the same operations in Apollo's persisted-query manifest
 *    format ({ format, version, operations: [{ id, name, type, body }] }), the file a router reads
 *    with PERSISTED_OPERATIONS. An id is the SHA-256 of the body, so a router that does not know
 *    the manifest registers the text as an automatic persisted query under the same id.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supergraph } from '@apollo/federation-internals';
import { generate } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';
import { Kind, parse, printSchema, type OperationDefinitionNode } from 'graphql';

const root = fileURLToPath(new URL('.', import.meta.url));
const out = `${root}src/generated/`;
/** Written here first (outside src/, where the type check looks), then moved into `out` file by file (see publish). */
const staging = `${root}.codegen-${process.pid}/`;
const SUPERGRAPH = fileURLToPath(new URL('../../router/supergraph.graphql', import.meta.url));

/** The manifest id of an operation: the SHA-256 of its text, in hex (what `persistedQuery.sha256Hash` carries). */
export const operationId = (body: string) => createHash('sha256').update(body).digest('hex');

export interface ManifestOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

/** Apollo's persisted-query manifest from the client preset's persisted documents ({ id: body }). */
export function toApolloManifest(documents: Record<string, string>) {
  const operations: ManifestOperation[] = Object.entries(documents).map(([id, body]) => {
    const operation = parse(body).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (!operation?.name) throw new Error(`persisted document ${id} has no named operation: every storefront operation needs a name`);
    if (operationId(body) !== id) throw new Error(`persisted document ${operation.name.value}: its id is not the SHA-256 of its text`);
    return { id, name: operation.name.value, type: operation.operation, body };
  });
  operations.sort((a, b) => a.name.localeCompare(b.name));
  return { format: 'apollo-persisted-query-manifest' as const, version: 1 as const, operations };
}

/** Every file below `dir`, as paths relative to it. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/**
 * Moves the staged files over the generated ones one rename at a time, then drops files no longer
 * generated. Turbo may run this (the build runs codegen again) while the type check reads
 * src/generated/: a rename is atomic, so a reader sees the old file or the new one, never none.
 */
function publish(): void {
  const fresh = new Set(filesBelow(staging));
  for (const file of fresh) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    renameSync(join(staging, file), join(out, file));
  }
  for (const file of filesBelow(out)) if (!fresh.has(file)) rmSync(join(out, file));
  rmSync(staging, { recursive: true, force: true });
}

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  try {
    await generateInto(staging);
    publish();
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function generateInto(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const apiSchema = Supergraph.build(readFileSync(SUPERGRAPH, 'utf8')).apiSchema().toGraphQLJSSchema();
  writeFileSync(`${dir}schema.graphqls`, `# The supergraph's API schema (generated from router/supergraph.graphql by codegen.ts).\n${printSchema(apiSchema)}\n`);

  await generate(
    {
      cwd: root,
      schema: `${dir}schema.graphqls`,
      documents: ['src/**/*.graphql', '!src/generated/**'],
      silent: true,
      noSilentErrors: true,
      generates: {
        [`${dir}graphql/`]: {
          preset: 'client',
          documentTransforms: [addTypenameSelectionDocumentTransform],
          presetConfig: {
            // Components read the fields their operation selects; no fragment masking to unwrap.
            fragmentMasking: false,
            persistedDocuments: { mode: 'embedHashInDocument', hashAlgorithm: operationId },
          },
          config: {
            // String unions, not TS enums: erasable syntax, as everywhere in this repository.
            enumsAsTypes: true,
            // Relative imports name their .ts file, as everywhere in this repository.
            importExtension: '.ts',
            useTypeImports: true,
            scalars: { DateTime: 'string' },
            avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
          },
        },
      },
    },
    true,
  );

  const documents = JSON.parse(readFileSync(`${dir}graphql/persisted-documents.json`, 'utf8')) as Record<string, string>;
  const manifest = toApolloManifest(documents);
  writeFileSync(`${dir}persisted-query-manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`web: ${manifest.operations.length} operations typed; manifest in src/generated/persisted-query-manifest.json`);
}

if (import.meta.main) await main();
