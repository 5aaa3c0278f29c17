import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, parse, print, visit, type DocumentNode, type FragmentDefinitionNode } from 'graphql';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const SUPERGRAPH_FILE = join(REPO_ROOT, 'router/supergraph.graphql');

export interface NamedOperation {
  /** Where it comes from: file, and its index there for inline ones. */
  source: string;
  document: string;
}

/**
 * Every client operation the project runs through the router: the documented client operations
 * (router/operations), the benchmark's (scripts/bench/operations), and the GraphQL written inline in
 * the router's test suites (template literals that start like a GraphQL document). Read when the test
 * runs, so operations added later are covered too. Inline ones that do not parse or validate against
 * the current supergraph (e.g. `_entities` sent straight to a subgraph, or built from pieces) are
 * dropped by the planning script, which reports them.
 */
export function collectOperations(): NamedOperation[] {
  const operations: NamedOperation[] = [];
  for (const dir of ['router/operations', 'scripts/bench/operations']) {
    operations.push(...documentsIn(dir));
  }
  for (const file of testFiles(join(REPO_ROOT, 'router/test'))) {
    const text = readFileSync(file, 'utf8');
    let index = 0;
    for (const [, literal] of text.matchAll(/`((?:[^`\\]|\\.)*)`/gs)) {
      const body = literal!.trim();
      if (!/^(\{|query\b|mutation\b|subscription\b)/.test(body)) continue;
      // Interpolations become `1`: fine where a value or string content goes, a syntax error where a
      // name or selection goes (such documents are reported as skipped).
      operations.push({ source: `${relative(REPO_ROOT, file)}#${index++}`, document: body.replace(/\$\{[^}]*\}/g, '1') });
    }
  }
  return operations;
}

/** One document per file that holds an operation, with the fragments it uses from the others. */
function documentsIn(dir: string): NamedOperation[] {
  const files = readdirSync(join(REPO_ROOT, dir))
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((file) => ({ file, document: parse(readFileSync(join(REPO_ROOT, dir, file), 'utf8')) }));
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const { document } of files) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
  }
  return files
    .filter(({ document }) => document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION))
    .map(({ file, document }) => {
      const own = new Set(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [d.name.value] : [])));
      const added: FragmentDefinitionNode[] = [];
      const visitSpreads = (node: object) =>
        visit(node as DocumentNode, {
          FragmentSpread(spread) {
            const name = spread.name.value;
            const fragment = fragments.get(name);
            if (own.has(name) || !fragment) return;
            own.add(name);
            added.push(fragment);
            visitSpreads(fragment);
          },
        });
      visitSpreads(document);
      return { source: `${dir}/${file}`, document: print({ ...document, definitions: [...document.definitions, ...added] }) };
    });
}

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === 'planner' ? [] : testFiles(path);
      return name.endsWith('.ts') ? [path] : [];
    });
}
