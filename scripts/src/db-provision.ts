// npm run db:provision -- --admin-url postgres://admin@host:5432/postgres [--prefix commerce] [--app-connection-limit 40]
// Creates, for every subgraph in supergraph.yaml, its own database, a migrator role that owns it
// and an app role with data privileges only (see prisma/src/provision.ts). Idempotent.
// Passwords: <SERVICE>_APP_PASSWORD / <SERVICE>_MIGRATOR_PASSWORD when set, otherwise generated
// for new roles and printed once. Nothing secret is written anywhere.
import { parseArgs } from 'node:util';
import { provision, serviceNames, urlFor } from '@commerce/db';
import { readSubgraphs } from './composition.ts';

const usage = 'usage: npm run db:provision -- --admin-url <postgres://superuser@host:port/postgres> [--prefix commerce] [--app-connection-limit 40]';
let args;
try {
  args = parseArgs({
    options: {
      'admin-url': { type: 'string' },
      prefix: { type: 'string', default: 'commerce' },
      'app-connection-limit': { type: 'string', default: '40' },
    },
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const adminUrl = args['admin-url'] ?? process.env.DATABASE_ADMIN_URL;
const limit = Number(args['app-connection-limit']);
if (!adminUrl || !/^postgres(ql)?:\/\//.test(adminUrl) || !Number.isInteger(limit) || limit < 1) {
  console.error(`--admin-url (or DATABASE_ADMIN_URL) must be a postgres:// URL and --app-connection-limit a positive integer.\n${usage}`);
  process.exit(2);
}

const services = (await readSubgraphs()).map((s) => s.name);
const passwords = new Map<string, string>();
for (const service of services) {
  const names = serviceNames(args.prefix, service);
  const app = process.env[`${service.toUpperCase()}_APP_PASSWORD`];
  const migrator = process.env[`${service.toUpperCase()}_MIGRATOR_PASSWORD`];
  if (app) passwords.set(names.appRole, app);
  if (migrator) passwords.set(names.migratorRole, migrator);
}

try {
  const result = await provision({ adminUrl, services, prefix: args.prefix, appConnectionLimit: limit, passwords, log: (line) => console.log(line) });
  const generated = result.services.filter((s) => Object.keys(s.generatedPasswords).length > 0);
  if (generated.length > 0) {
    console.log('\nGenerated passwords, shown this once (store them in your secret manager; they are not saved anywhere):');
    for (const s of generated) {
      const prefix = s.service.toUpperCase();
      const app = s.generatedPasswords[s.appRole];
      const migrator = s.generatedPasswords[s.migratorRole];
      if (app) console.log(`${prefix}_DATABASE_URL=${urlFor(adminUrl, { user: s.appRole, password: app, database: s.database })}`);
      if (migrator) console.log(`${prefix}_MIGRATOR_URL=${urlFor(adminUrl, { user: s.migratorRole, password: migrator, database: s.database })}`);
    }
  }
  console.log(result.changed ? '\nProvisioned.' : '\nNothing changed: every database and role was already as provisioned.');
} catch (error) {
  console.error(`db:provision failed: ${(error as Error).message}`);
  process.exit(1);
}
