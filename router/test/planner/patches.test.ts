import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/operations.ts';

/**
 * The planner patches (patches/*.patch, applied by patch-package on every `npm install`/`npm ci`):
 * they are made for the exact versions installed and pinned, they still apply, and they are in the
 * copies of the Apollo packages that the router itself loads. After an upgrade of @apollo/gateway
 * these fail until each patch is re-made for the new version or dropped (docs/planner-patches.md).
 */

const PATCH_DIR = join(REPO_ROOT, 'patches');

interface PatchFile {
  file: string;
  /** e.g. @apollo/gateway */
  packageName: string;
  version: string;
  /** Patched file (relative to the package) → lines the patch adds to it. */
  added: Map<string, string[]>;
}

function patchFiles(): PatchFile[] {
  return readdirSync(PATCH_DIR)
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((file) => {
      // patch-package's names: @scope+name+version(+sequence+description).patch
      const [scope, name, version] = file.replace(/\.patch$/, '').split('+');
      const added = new Map<string, string[]>();
      let current: string[] | undefined;
      for (const line of readFileSync(join(PATCH_DIR, file), 'utf8').split('\n')) {
        const target = /^\+\+\+ b\/node_modules\/@[^/]+\/[^/]+\/(.+)$/.exec(line);
        if (target) {
          current = added.get(target[1]!) ?? [];
          added.set(target[1]!, current);
        } else if (line.startsWith('+') && current && line.slice(1).trim() !== '') {
          current.push(line.slice(1));
        }
      }
      return { file, packageName: `${scope}/${name}`, version: version!, added };
    });
}

/** The directory of `packageName` as Node resolves it from `fromFile`. */
function packageDir(packageName: string, fromFile: string): string {
  const entry = createRequire(fromFile).resolve(packageName);
  return entry.slice(0, entry.lastIndexOf(`/node_modules/${packageName}/`) + `/node_modules/${packageName}`.length);
}

describe('planner patches', () => {
  const patches = patchFiles();
  const routerPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'router/package.json'), 'utf8')) as { dependencies: Record<string, string> };

  it('exist for the three patched packages', () => {
    expect([...new Set(patches.map((p) => p.packageName))].sort()).toEqual(['@apollo/gateway', '@apollo/query-graphs', '@apollo/query-planner']);
  });

  it('are made for the versions installed, and the router pins exactly those versions', () => {
    const routerEntry = join(REPO_ROOT, 'router/src/router.ts');
    for (const patch of patches) {
      const dir = packageDir(patch.packageName, routerEntry);
      const installed = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
      expect(installed, `${patch.file} is for ${patch.version}, ${installed} is installed`).toBe(patch.version);
      expect(routerPackage.dependencies[patch.packageName], `router/package.json must pin ${patch.packageName} exactly`).toBe(patch.version);
    }
    // The gateway pins the other Apollo packages it runs on exactly; the router pins them too.
    expect(routerPackage.dependencies['@apollo/federation-internals']).toBe(routerPackage.dependencies['@apollo/gateway']);
  });

  it('apply: patch-package (the postinstall step) finds every one applied or applies it, without warnings', () => {
    const result = spawnSync(join(REPO_ROOT, 'node_modules/.bin/patch-package'), ['--error-on-fail', '--error-on-warn'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    for (const patch of patches) {
      const sequence = /\+(\d+)\+([^+]+)\.patch$/.exec(patch.file);
      const label = sequence ? `${patch.packageName}@${patch.version} (${Number(sequence[1])} ${sequence[2]}) ✔` : `${patch.packageName}@${patch.version} ✔`;
      expect(result.stdout).toContain(label);
    }
  });

  it('are in the copies the router loads (gateway from the router, the planner from the gateway)', () => {
    const gateway = packageDir('@apollo/gateway', join(REPO_ROOT, 'router/src/router.ts'));
    const planner = packageDir('@apollo/query-planner', join(gateway, 'package.json'));
    const graphs = packageDir('@apollo/query-graphs', join(planner, 'package.json'));
    const loaded: Record<string, string> = { '@apollo/gateway': gateway, '@apollo/query-planner': planner, '@apollo/query-graphs': graphs };
    // One copy each: the composition used to build supergraphs sees the same query graphs.
    expect(packageDir('@apollo/query-graphs', join(packageDir('@apollo/composition', join(gateway, 'package.json')), 'package.json'))).toBe(graphs);
    for (const patch of patches) {
      for (const [file, lines] of patch.added) {
        const text = readFileSync(join(loaded[patch.packageName]!, file), 'utf8');
        for (const line of lines) expect(text, `${patch.file}: ${file}`).toContain(line);
      }
    }
  });

  it('are switched by COMMERCE_PLANNER_PATCHES, read when the patched modules load', () => {
    for (const patch of patches) {
      const text = [...patch.added.values()].flat().join('\n');
      expect(text, patch.file).toContain("process.env.COMMERCE_PLANNER_PATCHES !== 'off'");
      expect(text, patch.file).toMatch(/docs\/planner-patches\.md/);
    }
  });
});
