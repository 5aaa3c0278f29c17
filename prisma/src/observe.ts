import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';

/** Called with the SQL text and the bound values of every statement a service sends (Prisma's client or `Database.sql`). */
export type StatementListener = (sql: string, values: readonly unknown[]) => void;

/**
 * Wraps a driver adapter factory so every statement the Prisma client sends (queries, writes,
 * raw SQL, inside transactions or not) is reported to the listeners first. This is the hook tests
 * and benchmarks use to count SQL statements per operation; it works the same for PGlite and
 * PostgreSQL because it sits at Prisma's adapter boundary, not in either driver.
 * Transaction control (BEGIN/COMMIT) is not a statement here: it carries no data work.
 */
export function observeAdapter(factory: SqlDriverAdapterFactory, listeners: ReadonlySet<StatementListener>): SqlDriverAdapterFactory {
  const report = (query: SqlQuery) => {
    for (const listener of listeners) listener(query.sql, query.args);
  };
  const observeQueryable = <T extends SqlDriverAdapter | Transaction>(target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        if (property === 'queryRaw' || property === 'executeRaw') {
          return (query: SqlQuery) => {
            report(query);
            return value.call(object, query);
          };
        }
        if (property === 'startTransaction') {
          return async (...args: unknown[]) => observeQueryable((await value.apply(object, args)) as Transaction);
        }
        return value.bind(object);
      },
    });
  return new Proxy(factory, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (property === 'connect' && typeof value === 'function') {
        return async () => observeQueryable((await value.call(object)) as SqlDriverAdapter);
      }
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}
