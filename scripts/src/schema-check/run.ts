// Runs every check and returns the report; throws UsageError (exit 2) when inputs cannot be read.
import { relative, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parse } from 'graphql';
import { compose, readSubgraphs, REPO_ROOT, type CompositionProblem, type SubgraphSource } from '../composition.ts';
import { findApproval, loadApprovals } from './approvals.ts';
import { resolveBase } from './base.ts';
import { UsageError, type SchemaCheckOptions } from './config.ts';
import { buildSupergraph, diffSupergraphs, type BuiltSupergraph } from './diff.ts';
import { isFederation2, lintSubgraphs } from './lint.ts';
import { collectUsage, loadOperations, usersOf, validateOperations } from './operations.ts';
import { exitCodeOf, type ChangeFinding, type CompositionFinding, type Report } from './report.ts';

export async function runSchemaCheck(options: SchemaCheckOptions): Promise<Report> {
  const shown = (file: string) => relative(options.root, file) || file;

  // Everything that can be a usage error is read before any check runs.
  const subgraphs = await readSubgraphs(options.configFile).catch((error: Error) => {
    throw new UsageError(`cannot read the subgraphs of ${options.configFile}: ${error.message}`);
  });
  const approvals = await loadApprovals(options.approvalsFile, options.approvalsExplicit);
  const operationSet = await loadOperations(options.operationDirs, options.root);
  const base = await resolveBase(options.base, options.supergraphFile);
  let before: BuiltSupergraph | null = null;
  if (base.sdl !== null) {
    try {
      before = buildSupergraph(base.sdl);
    } catch (error) {
      throw new UsageError(`the base supergraph (${base.description}) is not a valid supergraph: ${(error as Error).message}`);
    }
  }
  const warnings: string[] = [];

  // 1. Valid Federation 2 subgraphs that compose.
  const problems = federation1Subgraphs(subgraphs, shown);
  const outcome = compose(subgraphs);
  if (!outcome.ok) problems.push(...outcome.problems.map((p) => describeProblem(p, subgraphs, options.root)));
  const after = outcome.ok ? buildSupergraph(outcome.supergraphSdl) : null;

  // 2. The committed supergraph is what the subgraphs compose to.
  let upToDate: boolean | null = null;
  if (outcome.ok) {
    upToDate = (await readFile(options.supergraphFile, 'utf8').catch(() => null)) === outcome.supergraphSdl;
  }

  // 4. Client operations against the new API schema (before 5: an invalid operation cannot be acknowledged).
  const operationProblems = [...operationSet.problems, ...(after ? validateOperations(operationSet, after.api) : [])];
  const invalidOperations = new Set(operationProblems.flatMap((p) => (p.operation === null ? [] : [p.operation])));

  // 3 and 5. Breaking changes (API schema and authorization rules), approvals, and usage: usage
  // wins over approval unless the approval acknowledges every operation that uses the change and
  // they all still validate.
  let changes: ChangeFinding[] | null = null;
  // Usage is what clients use today: resolve it on the base schema, where removed coordinates exist.
  const usageSchema = (before ?? after)?.api;
  const usage = usageSchema ? collectUsage(operationSet, usageSchema) : new Map();
  if (!after) {
    warnings.push('breaking-change and operation checks skipped: the subgraphs do not compose');
  } else if (!before) {
    warnings.push(`breaking-change check skipped: no base supergraph (${base.notes.join('; ') || 'none found'})`);
  } else {
    changes = (await diffSupergraphs(before, after)).map((change): ChangeFinding => {
      const approval = findApproval(approvals, change);
      const relevant = change.criticality !== 'NON_BREAKING' || change.inherentCriticality !== 'NON_BREAKING';
      const usedBy = relevant ? usersOf(change.path, change.type, usage) : [];
      const users = [...new Set(usedBy.map((u) => u.operation))];
      const listed = new Set(approval?.operations ?? []);
      // Authorization changes leave every operation valid: who uses them is information, not a blocker.
      const usageBlocks = change.category === 'api' && change.inherentCriticality === 'BREAKING' && users.length > 0;
      const acknowledged = users.filter((name) => listed.has(name));
      const unacknowledged = usageBlocks ? users.filter((name) => !listed.has(name)) : [];
      const invalidUsers = usageBlocks ? users.filter((name) => invalidOperations.has(name)) : [];
      const blockedByUse = usageBlocks && (!approval || unacknowledged.length > 0 || invalidUsers.length > 0);
      const status =
        blockedByUse || (change.criticality === 'BREAKING' && !approval)
          ? 'failed'
          : change.criticality === 'BREAKING' || (approval && change.criticality === 'DANGEROUS')
            ? 'approved'
            : change.criticality === 'DANGEROUS'
              ? 'warning'
              : 'safe';
      return { ...change, status, approval, usedBy, acknowledged, unacknowledged, invalidUsers };
    });
  }
  const stale = changes ? approvals.filter((a) => !changes.some((c) => c.type === a.type && c.path === a.path)) : [];
  // Acknowledged operations that do not use the change they acknowledge (or do not exist).
  const unusedAcknowledgements = (changes ?? []).flatMap((change) =>
    (change.approval?.operations ?? [])
      .filter((name) => !change.usedBy.some((u) => u.operation === name))
      .map((operation) => ({
        type: change.type,
        path: change.path ?? '',
        operation,
        exists: operationSet.operations.some((o) => o.name === operation),
      })),
  );

  // 6. Conventions, per subgraph.
  const lint = lintSubgraphs(subgraphs, options.root);

  const report: Omit<Report, 'exitCode'> = {
    subgraphs: subgraphs.map((s) => s.name),
    base: { description: base.description, source: base.source, rev: base.rev, notes: base.notes },
    composition: { ok: problems.length === 0, problems },
    supergraph: { file: shown(options.supergraphFile), upToDate },
    changes,
    operations: { files: operationSet.files, count: operationSet.operations.length, validated: after !== null, problems: operationProblems },
    lint,
    approvals: { file: shown(options.approvalsFile), count: approvals.length, stale, unusedAcknowledgements },
    warnings,
  };
  return { exitCode: exitCodeOf(report), ...report };
}

function federation1Subgraphs(subgraphs: readonly SubgraphSource[], shown: (file: string) => string): CompositionFinding[] {
  return subgraphs.flatMap((subgraph) => {
    let document;
    try {
      document = parse(subgraph.sdl);
    } catch {
      return []; // composition reports the syntax error
    }
    if (isFederation2(document)) return [];
    return [
      {
        subgraphs: [subgraph.name],
        code: 'NOT_FEDERATION_2',
        coordinate: null,
        message: 'no `extend schema @link(url: "https://specs.apollo.dev/federation/v2.x", …)`: composition would read it as Federation 1',
        location: `${shown(subgraph.file)}:1:1`,
      },
    ];
  });
}

/** Adds what composition.ts leaves implicit: every subgraph involved and the coordinate. */
function describeProblem(problem: CompositionProblem, subgraphs: readonly SubgraphSource[], root: string): CompositionFinding {
  // composition.ts gives locations relative to the repository; show them relative to the project.
  const located = problem.location ? /^(.*):(\d+):(\d+)$/.exec(problem.location) : null;
  const file = located?.[1] ? resolve(REPO_ROOT, located[1]) : null;
  const location = located && file ? `${relative(root, file)}:${located[2]}:${located[3]}` : problem.location;

  const quoted = [...problem.message.matchAll(/"([^"\s]+)"/g)].map((m) => m[1] ?? '');
  const names = subgraphs.map((s) => s.name);
  let involved = problem.subgraph ? [problem.subgraph] : names.filter((name) => quoted.includes(name));
  if (involved.length === 0 && file) involved = subgraphs.filter((s) => resolve(s.file) === file).map((s) => s.name);

  const coordinate =
    quoted.find((q) => /^[_A-Za-z]\w*\.[_A-Za-z]\w*/.test(q) && !q.includes('/')) ??
    quoted.find((q) => /^[_A-Za-z]\w*$/.test(q) && !names.includes(q)) ??
    null;
  return { subgraphs: involved, code: problem.code, coordinate, message: problem.message, location };
}
