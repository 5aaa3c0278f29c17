export { openDatabase, openPGlite } from './database.ts';
export type { Database, DatabaseKind, OpenOptions, PGliteDatabase, PoolOptions, SqlSession } from './database.ts';
export { checksumOf, migrate, MigrationError, pendingMigrations, readMigrations } from './migrate.ts';
export type { LocalMigration, MigrationReport } from './migrate.ts';
export { databaseOptionsFromEnv } from './config.ts';
export type { StatementListener } from './observe.ts';
export { deprovision, generatePassword, provision, serviceNames, urlFor } from './provision.ts';
export type { ProvisionOptions, ProvisionResult, ServiceProvision } from './provision.ts';
