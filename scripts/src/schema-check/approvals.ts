// Approved breaking changes: a committed JSON file, reviewed like code.
//   { "approvals": [ { "type": "FIELD_REMOVED", "path": "Product.sku", "reason": "…" } ] }
// An approval matches a change by type and path exactly. Once the base revision contains the
// change, the approval matches nothing and is reported as stale: delete it then.
// `"operations": ["AccountPage"]` (optional) acknowledges client operations that use the change
// and still validate against the new API schema (e.g. a field that becomes nullable): without it,
// usage by an operation blocks the change even when approved.
import { readFile } from 'node:fs/promises';
import { UsageError } from './config.ts';

export interface Approval {
  type: string;
  path: string;
  reason: string;
  /** Operations acknowledged as using the change (their clients are ready for it); absent when not given. */
  operations?: string[];
}

export async function loadApprovals(file: string, explicit: boolean): Promise<Approval[]> {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError(`cannot read approvals file ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`approvals file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  const entries = typeof data === 'object' && data !== null && 'approvals' in data ? data.approvals : undefined;
  if (!Array.isArray(entries)) throw new UsageError(`approvals file ${file}: expected { "approvals": [ … ] }`);
  return entries.map((entry: unknown, i) => {
    const record = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const missing = (['type', 'path', 'reason'] as const).filter((key) => typeof record[key] !== 'string' || !(record[key] as string).trim());
    if (missing.length > 0) {
      throw new UsageError(`approvals file ${file}: approvals[${i}] needs a non-empty ${missing.join(', ')} (e.g. { "type": "FIELD_REMOVED", "path": "Product.sku", "reason": "…" })`);
    }
    const approval: Approval = { type: record.type as string, path: record.path as string, reason: (record.reason as string).trim() };
    if (record.operations !== undefined) {
      const operations = record.operations;
      if (!Array.isArray(operations) || operations.some((name) => typeof name !== 'string' || !name.trim())) {
        throw new UsageError(
          `approvals file ${file}: approvals[${i}].operations must be a list of operation names (e.g. "operations": ["AccountPage"]), got ${JSON.stringify(operations)}`,
        );
      }
      approval.operations = [...new Set(operations.map((name: string) => name.trim()))];
    }
    return approval;
  });
}

export function findApproval(approvals: readonly Approval[], change: { type: string; path: string | null }): Approval | null {
  return approvals.find((a) => a.type === change.type && a.path === change.path) ?? null;
}
