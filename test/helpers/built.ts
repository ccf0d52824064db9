/**
 * Makes sure dist/ holds a build of the current sources before a test runs compiled code in a
 * child process (`npm test` builds first via pretest; a bare `vitest run` may not have).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) if (name.endsWith('.ts')) newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  return newest;
}

export function ensureBuilt(): void {
  const out = join(repoRoot, 'dist/proxy/engine.js');
  const sources = Math.max(...['proxy', 'certs', 'core'].map((d) => newestMtime(join(repoRoot, d))));
  if (existsSync(out) && statSync(out).mtimeMs >= sources) return;
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'ignore', timeout: 120_000 });
  } catch {
    // tsc exits non-zero when any file has a type error but still emits; check the output below.
  }
  if (!existsSync(out)) throw new Error('dist/proxy/engine.js missing after build');
}
