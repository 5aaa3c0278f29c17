import type { SqlQuery } from '@prisma/driver-adapter-utils';

/**
 * Distinct statements each connection keeps prepared, unless configured otherwise: none. Measured
 * (DESIGN, "What one subgraph fetch costs"), prepared statements cut PostgreSQL's CPU per fetch by
 * a fifth to a third at seed size, but at the large data size cost orders a third more, and with
 * generic plans made every large read several times as expensive. Opt in per service.
 */
export const DEFAULT_PREPARED_STATEMENTS = 0;

/**
 * Statements with more parameters are never kept prepared. Prisma writes a batch lookup as
 * `IN ($1, …, $n)`, one text per batch size: a connection would otherwise keep a statement for
 * every size up to the largest batch it ever saw.
 */
export const MAX_PREPARED_PARAMETERS = 32;

/**
 * Names for `pg`'s prepared statements (the Prisma adapter's `statementNameGenerator`): the same
 * SQL text gets the same name, so each connection sends it to PostgreSQL to parse once and after
 * that only binds and executes it. Without a name (`''`), PostgreSQL parses and plans the text on
 * every execution. Only the first `limit` distinct texts with at most MAX_PREPARED_PARAMETERS
 * parameters are named, which bounds what every connection keeps on the server; the rest run
 * unnamed, as before.
 */
export function preparedStatementNames(limit: number): (query: SqlQuery) => string {
  const names = new Map<string, string>();
  return (query) => {
    const known = names.get(query.sql);
    if (known !== undefined) return known;
    if (names.size >= limit || query.args.length > MAX_PREPARED_PARAMETERS) return '';
    const name = `commerce_${names.size}`;
    names.set(query.sql, name);
    return name;
  };
}
