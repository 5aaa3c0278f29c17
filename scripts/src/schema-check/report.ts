// The result of a check: one plain object, printed for people (grouped by subgraph) and written
// as JSON for machines (`--json <file>`).
import type { Approval } from './approvals.ts';
import type { SchemaChange } from './diff.ts';
import type { LintProblem } from './lint.ts';
import type { OperationProblem, OperationRef } from './operations.ts';

export interface ChangeFinding extends SchemaChange {
  /** failed: breaks clients and is not approved, or is used by an operation (usage wins over approval). */
  status: 'failed' | 'approved' | 'warning' | 'safe';
  approval: Approval | null;
  /** Operations that use what the change touches (for breaking and dangerous changes). */
  usedBy: OperationRef[];
}

export interface CompositionFinding {
  /** Subgraphs involved; empty when composition does not say. */
  subgraphs: string[];
  code: string;
  /** The type or field the error is about, e.g. `Product.name`, when the message names one. */
  coordinate: string | null;
  message: string;
  /** `file:line:column`, relative to the project root. */
  location: string | null;
}

export interface Report {
  exitCode: 0 | 1;
  /** Subgraph names in supergraph.yaml order. */
  subgraphs: string[];
  base: { description: string; source: 'file' | 'git' | 'none'; rev: string | null; notes: string[] };
  composition: { ok: boolean; problems: CompositionFinding[] };
  /** upToDate is null when there is no fresh composition to compare with. */
  supergraph: { file: string; upToDate: boolean | null };
  /** null when no diff ran (composition failed or no base). */
  changes: ChangeFinding[] | null;
  /** validated is false when there is no new API schema to validate against. */
  operations: { files: string[]; count: number; validated: boolean; problems: OperationProblem[] };
  lint: LintProblem[];
  approvals: { file: string; count: number; stale: Approval[] };
  /** Checks skipped and why. */
  warnings: string[];
}

export function exitCodeOf(report: Omit<Report, 'exitCode'>): 0 | 1 {
  const failed =
    report.composition.problems.length > 0 ||
    report.supergraph.upToDate === false ||
    (report.changes ?? []).some((c) => c.status === 'failed') ||
    report.operations.problems.length > 0 ||
    report.lint.length > 0;
  return failed ? 1 : 0;
}

const FAIL = '✗';
const WARN = '!';
const PASS = '✓';
const INFO = '·';

export function formatReport(report: Report): string {
  const groups = new Map<string, string[]>(report.subgraphs.map((name) => [name, []]));
  const add = (subgraphs: readonly string[], line: string) => {
    const key = subgraphs.length === 0 ? 'supergraph' : subgraphs.join(', ');
    const lines = groups.get(key) ?? [];
    lines.push(line);
    groups.set(key, lines);
  };

  for (const p of report.composition.problems) {
    add(p.subgraphs, `${FAIL} ${p.code}${p.coordinate ? ` ${p.coordinate}` : ''}${p.location ? ` at ${p.location}` : ''}\n    ${p.message.replace(/\n/g, '\n    ')}`);
  }
  for (const p of report.lint) {
    add([p.subgraph], `${FAIL} lint ${p.rule} at ${p.file}:${p.line}:${p.column}: ${p.message}`);
  }
  for (const c of report.changes ?? []) add(c.subgraphs, formatChange(c));
  if (report.supergraph.upToDate === false) {
    add([], `${FAIL} ${report.supergraph.file} is stale: it differs from a fresh composition of the subgraphs.\n    Fix: npm run compose, then commit ${report.supergraph.file}.`);
  }

  const out: string[] = [];
  const notes = report.base.notes.length > 0 ? ` (${report.base.notes.join('; ')})` : '';
  out.push(`Schema check of ${report.subgraphs.length} subgraph(s) against base: ${report.base.description}${notes}`);
  for (const [name, lines] of groups) {
    if (lines.length > 0) out.push('', name, ...lines.map((l) => `  ${l}`));
  }

  const ops = report.operations;
  out.push('', `client operations (${ops.count} in ${ops.files.length} file(s))`);
  if (!ops.validated) out.push(`  ${WARN} not validated: there is no new API schema`);
  else if (ops.problems.length === 0) out.push(`  ${PASS} all valid against the new API schema`);
  for (const p of ops.problems) {
    out.push(`  ${FAIL} ${p.operation ?? 'document'} (${p.file}${p.line ? `:${p.line}` : ''}): ${p.message}`);
  }

  const extra = [
    ...report.approvals.stale.map(
      (a) => `${WARN} stale approval ${a.type} ${a.path} matches no change; delete it from ${report.approvals.file}`,
    ),
    ...report.warnings.map((w) => `${WARN} ${w}`),
  ];
  if (extra.length > 0) out.push('', 'warnings', ...extra.map((l) => `  ${l}`));

  out.push('', summary(report));
  return out.join('\n');
}

function formatChange(c: ChangeFinding): string {
  const what = `${c.type} ${c.path ?? ''}`.trim();
  const mark = { failed: FAIL, approved: PASS, warning: WARN, safe: INFO }[c.status];
  const lines = [`${mark} ${c.criticality} ${what} — ${c.impact}`];
  if (c.status !== 'safe') lines.push(`    ${c.message}`);
  for (const user of c.usedBy) lines.push(`    used by ${user.operation} (${user.file})`);
  if (c.approval) {
    lines.push(
      c.status === 'failed'
        ? `    approved ("${c.approval.reason}"), but an operation uses it: usage wins over approval`
        : `    approved: ${c.approval.reason}`,
    );
  } else if (c.status === 'failed') {
    lines.push(
      c.usedBy.length > 0
        ? '    change the operations that use it first: an approval cannot override usage'
        : '    if intended, approve it in the approvals file with a reason',
    );
  }
  return lines.join('\n');
}

function summary(report: Report): string {
  const changes = report.changes ?? [];
  const count = (n: number, what: string) => (n > 0 ? [`${n} ${what}`] : []);
  const failures = [
    ...count(report.composition.problems.length, 'composition error(s)'),
    ...(report.supergraph.upToDate === false ? ['stale supergraph'] : []),
    ...count(changes.filter((c) => c.status === 'failed').length, 'breaking change(s)'),
    ...count(report.operations.problems.length, 'operation error(s)'),
    ...count(report.lint.length, 'lint problem(s)'),
  ];
  const notes = [
    ...count(changes.filter((c) => c.status === 'approved').length, 'approved'),
    ...count(changes.filter((c) => c.status === 'warning').length, 'dangerous'),
    ...count(changes.filter((c) => c.status === 'safe').length, 'safe'),
    ...count(report.approvals.stale.length + report.warnings.length, 'warning(s)'),
  ];
  const tail = notes.length > 0 ? ` (${notes.join(', ')})` : '';
  const passed = [
    `${report.subgraphs.length} subgraph(s) compose`,
    `${report.supergraph.file} is current`,
    report.changes ? 'no unapproved breaking change' : 'breaking changes not checked',
    `${report.operations.count} operation(s) valid`,
    'conventions followed',
  ];
  return report.exitCode === 0
    ? `${PASS} schema check passed: ${passed.join(', ')}${tail}`
    : `${FAIL} schema check failed: ${failures.join(', ')}${tail}`;
}
