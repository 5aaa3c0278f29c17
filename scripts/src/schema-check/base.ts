// Where the "before" supergraph comes from. Read-only git plumbing; never changes the repository.
//
// Default: the supergraph at `git merge-base HEAD main` (or origin/main), i.e. what the branch
// started from. Whenever that is unavailable (no main branch, shallow clone, merge base is HEAD
// itself, base predates the supergraph file), compare with HEAD's committed supergraph instead and
// say so: that still catches uncommitted or not-yet-composed changes. No git at all → no base, and
// the breaking-change check is skipped with a warning (operations are still validated).
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { BaseSpec } from './config.ts';
import { UsageError } from './config.ts';

export interface BaseSupergraph {
  /** null: no base found; the diff is skipped. */
  sdl: string | null;
  /** Human-readable origin, e.g. "merge-base of HEAD and main (3f2a1c0)". */
  description: string;
  source: 'file' | 'git' | 'none';
  rev: string | null;
  /** Why the default was not used, when it was not. */
  notes: string[];
}

const MAIN_REFS = ['main', 'origin/main'];

export async function resolveBase(spec: BaseSpec, supergraphFile: string): Promise<BaseSupergraph> {
  if (spec.kind === 'file') {
    const sdl = await readFile(spec.file, 'utf8').catch((error: Error) => {
      throw new UsageError(`cannot read --base-file ${spec.file}: ${error.message}`);
    });
    return { sdl, description: spec.file, source: 'file', rev: null, notes: [] };
  }

  const git = gitIn(dirname(supergraphFile));
  // `<rev>:./name` is resolved relative to git's working directory, so no repo-root arithmetic.
  const pathSpec = `./${basename(supergraphFile)}`;
  const notes: string[] = [];

  if (spec.kind === 'rev') {
    const sha = git('rev-parse', '--verify', '--quiet', `${spec.rev}^{commit}`);
    if (sha === null) throw new UsageError(`unknown base revision "${spec.rev}"`);
    const sdl = git('show', `${sha}:${pathSpec}`);
    if (sdl !== null) return { sdl, description: `${spec.rev} (${short(sha)})`, source: 'git', rev: sha, notes };
    notes.push(`${spec.rev} has no ${basename(supergraphFile)}`);
    return atHead(git, pathSpec, notes);
  }

  if (git('rev-parse', '--verify', '--quiet', 'HEAD^{commit}') === null) {
    return { sdl: null, description: 'none', source: 'none', rev: null, notes: ['not a git repository with commits'] };
  }
  const mainRef = MAIN_REFS.find((ref) => git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`) !== null);
  if (!mainRef) {
    notes.push('no main branch here (single-branch or shallow clone?)');
    return atHead(git, pathSpec, notes);
  }
  const mergeBase = git('merge-base', 'HEAD', mainRef);
  if (mergeBase === null) {
    notes.push(`no merge base of HEAD and ${mainRef} (shallow clone?)`);
    return atHead(git, pathSpec, notes);
  }
  if (mergeBase === git('rev-parse', 'HEAD')) {
    notes.push(`HEAD is the merge base with ${mainRef}`);
    return atHead(git, pathSpec, notes);
  }
  const sdl = git('show', `${mergeBase}:${pathSpec}`);
  if (sdl === null) {
    notes.push(`the merge base ${short(mergeBase)} has no ${basename(supergraphFile)}`);
    return atHead(git, pathSpec, notes);
  }
  return { sdl, description: `merge-base of HEAD and ${mainRef} (${short(mergeBase)})`, source: 'git', rev: mergeBase, notes };
}

function atHead(git: Git, pathSpec: string, notes: string[]): BaseSupergraph {
  const head = git('rev-parse', '--verify', '--quiet', 'HEAD^{commit}');
  const sdl = head === null ? null : git('show', `${head}:${pathSpec}`);
  if (head === null || sdl === null) {
    notes.push('HEAD has no committed supergraph either');
    return { sdl: null, description: 'none', source: 'none', rev: null, notes };
  }
  notes.push("comparing with HEAD's committed supergraph instead");
  return { sdl, description: `HEAD (${short(head)})`, source: 'git', rev: head, notes };
}

type Git = (...args: string[]) => string | null;

/** Runs git in `cwd`; null on any failure (no git, not a repository, unknown revision, missing file). */
function gitIn(cwd: string): Git {
  return (...args) => {
    const result = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (result.error || result.status !== 0) return null;
    // rev-parse and merge-base answer one line; `show` returns the file byte for byte.
    return args[0] === 'show' ? result.stdout : result.stdout.trim();
  };
}

const short = (sha: string) => sha.slice(0, 7);
