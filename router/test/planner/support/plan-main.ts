// Plans operations with the query planner this process loads, with the planner patches on or off as
// COMMERCE_PLANNER_PATCHES says (it is read once, when the patched modules load; hence a process of
// its own). Usage: node plan-main.ts <supergraph file> < operations.json
// stdin: [{ source, document }]; stdout: [{ source, operationName, plan } | { source, skipped }].
import { readFileSync } from 'node:fs';
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, prettyFormatQueryPlan } from '@apollo/query-planner';
import { Kind, parse, validate, type DocumentNode } from 'graphql';
import type { NamedOperation } from './operations.ts';

export type PlanResult =
  /** `rootFields`: the field names the operation selects at its root, through fragments. */
  | { source: string; operationName: string | null; plan: string; json: string; rootFields: string[] }
  | { source: string; skipped: string };

const file = process.argv[2];
if (!file) throw new Error('usage: plan-main.ts <supergraph file> < operations.json');
const supergraph = Supergraph.build(readFileSync(file, 'utf8'));
const apiSchema = supergraph.apiSchema();
const graphqlSchema = apiSchema.toGraphQLJSSchema();
// The gateway's planner, configured as the router configures it (defaults).
const planner = new QueryPlanner(supergraph);

const operations = JSON.parse(readFileSync(0, 'utf8')) as NamedOperation[];
const results: PlanResult[] = [];
for (const { source, document } of operations) {
  let parsed: DocumentNode;
  try {
    parsed = parse(document);
  } catch (error) {
    results.push({ source, skipped: `does not parse: ${(error as Error).message}` });
    continue;
  }
  const errors = validate(graphqlSchema, parsed);
  if (errors.length > 0) {
    results.push({ source, skipped: `not valid against the supergraph: ${errors[0]!.message}` });
    continue;
  }
  const names = parsed.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? null] : []));
  for (const operationName of names) {
    const operation = operationFromDocument(apiSchema, parsed, operationName ? { operationName } : {});
    const plan = planner.buildQueryPlan(operation);
    const rootFields = operation.expandAllFragments().selectionSet.fieldsInSet().map(({ field }) => field.element.name);
    results.push({ source, operationName, plan: prettyFormatQueryPlan(plan), json: JSON.stringify(plan), rootFields });
  }
}
process.stdout.write(JSON.stringify(results));
