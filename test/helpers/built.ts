/**
 * Tests that run compiled code (a `leakwatch` child process, worker threads) need dist/ built
 * from the current sources. The vitest global setup (test/setup/global.ts) builds once when dist/
 * is missing or older than a source; here a test only checks, so no test compiles and none runs
 * a stale dist/ without saying so.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The folders tsconfig.build.json compiles. */
const SOURCE_DIRS = ['core', 'certs', 'proxy', 'rules', 'store', 'dashboard', 'cli', 'bench'];

function newest(dir: string, ext: string, skip: ReadonlySet<string> = new Set()): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n = skip.has(p) ? n : Math.max(n, newest(p, ext, skip));
    else if (e.name.endsWith(ext) && !e.name.endsWith('.d.ts')) n = Math.max(n, statSync(p).mtimeMs);
  }
  return n;
}

/** Why dist/ cannot be used as it is ('' when it is fresh). */
export function distProblem(): string {
  if (!existsSync(join(repoRoot, 'dist/cli/main.js'))) return 'dist/ is not built';
  const skip = new Set([join(repoRoot, 'dashboard/public')]);
  const src = Math.max(...SOURCE_DIRS.map((d) => newest(join(repoRoot, d), '.ts', skip)));
  const out = newest(join(repoRoot, 'dist'), '.js');
  return src > out ? 'dist/ is older than the sources' : '';
}

/** Throws when dist/ is missing or stale (run `npm run build`, or let the global setup do it). */
export function ensureBuilt(): void {
  const problem = distProblem();
  if (problem) throw new Error(`${problem}: run \`npm run build\` (vitest's global setup builds it before the tests)`);
}
