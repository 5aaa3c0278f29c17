// The result of a check: one plain object, printed for people (grouped by subgraph) and written
// as JSON for machines (`--json <file>`).
import type { Approval } from './approvals.ts';
import type { SchemaChange } from './diff.ts';
import type { LintProblem } from './lint.ts';
import type { OperationProblem, OperationRef } from './operations.ts';

export interface ChangeFinding extends SchemaChange {
  /**
   * failed: breaks clients (or weakens an authorization rule) and is not approved, or is used by an
   * operation the approval does not acknowledge, or by one that no longer validates.
   */
  status: 'failed' | 'approved' | 'warning' | 'safe';
  approval: Approval | null;
  /** Operations that use what the change touches (for breaking and dangerous changes). */
  usedBy: OperationRef[];
  /** Names of operations in usedBy that the approval's `operations` lists. */
  acknowledged: string[];
  /**
   * For a change that usage blocks (an API change that breaks by nature, used by an operation):
   * operations in usedBy the approval does not acknowledge. Empty otherwise.
   */
  unacknowledged: string[];
  /** For a change that usage blocks: operations in usedBy that no longer validate. Empty otherwise. */
  invalidUsers: string[];
}

/** An operation an approval acknowledges that does not use the approved change (or does not exist). */
export interface UnusedAcknowledgement {
  type: string;
  path: string;
  operation: string;
  /** false: no operation of that name in the operation folders. */
  exists: boolean;
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
  approvals: { file: string; count: number; stale: Approval[]; unusedAcknowledgements: UnusedAcknowledgement[] };
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
    ...report.approvals.unusedAcknowledgements.map(
      (u) =>
        `${WARN} approval ${u.type} ${u.path} acknowledges ${u.operation}, which ${u.exists ? 'does not use the change' : 'is not an operation in the operation folders'}; remove it from its "operations" in ${report.approvals.file}`,
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
  if (c.status !== 'safe' || c.category === 'authorization') lines.push(`    ${c.message}`);
  for (const user of c.usedBy) lines.push(`    used by ${user.operation} (${user.file})`);
  const names = (list: readonly string[]) => list.join(', ');
  const quotedList = (list: readonly string[]) => list.map((n) => JSON.stringify(n)).join(', ');
  // What to do about the operations that block a change: the broken ones must change; the others
  // can change, or be acknowledged in the approval once their clients handle the change.
  const broken = c.invalidUsers;
  const addable = c.unacknowledged.filter((n) => !broken.includes(n));
  const brokenLine = `    no longer valid against the new API schema, change first: ${names(broken)} (an approval cannot acknowledge a broken operation)`;
  if (c.approval && c.status !== 'failed') {
    lines.push(`    approved: ${c.approval.reason}`);
    if (c.acknowledged.length > 0) lines.push(`    acknowledged operation(s), still valid against the new API schema: ${names(c.acknowledged)}`);
  } else if (c.approval) {
    lines.push(`    approved ("${c.approval.reason}"), but operations use it: usage wins over approval unless the approval acknowledges them`);
    if (broken.length > 0) lines.push(brokenLine);
    if (addable.length > 0) {
      lines.push(`    not acknowledged: add ${quotedList(addable)} to the approval's "operations" once their clients handle the change, or change them`);
    }
  } else if (c.status === 'failed') {
    if (c.unacknowledged.length === 0) lines.push('    if intended, approve it in the approvals file with a reason');
    if (broken.length > 0) lines.push(brokenLine);
    if (addable.length > 0) {
      lines.push(
        `    still valid: ${names(addable)}; change them, or approve the change acknowledging them once their clients handle it:`,
        `    { "type": ${JSON.stringify(c.type)}, "path": ${JSON.stringify(c.path)}, "reason": "…", "operations": [${quotedList(addable)}] }`,
      );
    }
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
    ...count(report.approvals.stale.length + report.approvals.unusedAcknowledgements.length + report.warnings.length, 'warning(s)'),
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
