import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * "No service reads another's tables" and "subgraphs never import each other" (README, design
 * notes): a service's code reaches no other service's code, so it cannot open another service's
 * Prisma client or share its module state. Checked on the source: every import of every file
 * under subgraphs/<service>/ (src, test, prisma config) resolves inside that service, the kit, the
 * database platform or a package, and no service depends on another service's package.
 */
const SUBGRAPHS = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = ['accounts', 'inventory', 'orders', 'products', 'reviews'];
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'generated' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else if (/\.(ts|tsx|mts)$/.test(entry.name)) files.push(path);
  }
  return files;
}

/** Every import specifier of a file. */
function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((match) => match[1] ?? match[2] ?? match[3]!);
}

describe('service boundaries', () => {
  it('finds the five services and their code', async () => {
    const present = (await readdir(SUBGRAPHS, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name !== 'kit').map((e) => e.name);
    expect(present.sort()).toEqual(SERVICES);
    for (const service of SERVICES) expect((await sourceFiles(join(SUBGRAPHS, service))).length).toBeGreaterThan(5);
  });

  it.each(SERVICES)('%s imports no file of another service, by path or by package', async (service) => {
    const root = join(SUBGRAPHS, service);
    const crossings: string[] = [];
    for (const file of await sourceFiles(root)) {
      for (const specifier of importsOf(await readFile(file, 'utf8'))) {
        const into = (target: string) => {
          const other = SERVICES.find((name) => name !== service && (target === name || target.startsWith(`${name}${sep}`)));
          if (other) crossings.push(`${relative(SUBGRAPHS, file)} → ${specifier}`);
        };
        if (specifier.startsWith('.')) into(relative(SUBGRAPHS, resolve(dirname(file), specifier)));
        const packaged = /^@commerce\/subgraph-([a-z]+)/.exec(specifier);
        if (packaged && packaged[1] !== service) crossings.push(`${relative(SUBGRAPHS, file)} → ${specifier}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  it.each(SERVICES)('%s depends on no other service’s package', async (service) => {
    const manifest = JSON.parse(await readFile(join(SUBGRAPHS, service, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies });
    expect(names.filter((name) => name.startsWith('@commerce/subgraph-'))).toEqual([]);
  });

  it('would notice a crossing: the check reads relative imports and package names', () => {
    expect(importsOf(`import { x } from '../../orders/src/server.ts';\nimport type { Y } from "@commerce/subgraph-orders";\nconst z = await import('./local.ts');`)).toEqual([
      '../../orders/src/server.ts',
      '@commerce/subgraph-orders',
      './local.ts',
    ]);
  });
});
