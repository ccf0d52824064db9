/**
 * Runs once per `vitest run`, before any test file:
 *
 * 1. Builds dist/ when it is missing or older than a source (child-process tests run dist/).
 *    `npm test` has just built it in `pretest`, so then this costs one directory walk.
 * 2. Points TMPDIR at a folder of this run. Every test removes what it creates; at the end the
 *    folder's leftovers are listed (a test that forgot its cleanup shows up here by name, with
 *    whether it held a CA key) and removed, so no run leaves captures or private keys behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distProblem, ensureBuilt, repoRoot } from '../helpers/built.js';

function build(): void {
  const problem = distProblem();
  if (!problem) return;
  const started = Date.now();
  process.stderr.write(`[global setup] ${problem}: building…\n`);
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
  } catch {
    // tsc exits non-zero on a type error but still emits; the typecheck step reports it.
  }
  ensureBuilt();
  process.stderr.write(`[global setup] built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** Temp dirs (and files) left in `root`, the ones holding a CA private key marked. */
export function leftovers(root: string): string[] {
  if (!existsSync(root)) return [];
  const holdsKey = (p: string, depth = 0): boolean => {
    try {
      return readdirSync(p, { withFileTypes: true }).some((e) =>
        e.isDirectory() ? depth < 3 && holdsKey(join(p, e.name), depth + 1) : /key\.pem$|\.key$/.test(e.name));
    } catch {
      return false;
    }
  };
  return readdirSync(root).map((name) => (holdsKey(join(root, name)) ? `${name} (holds a private key)` : name));
}

export default function setup(): () => void {
  build();
  const original = process.env['TMPDIR'];
  const root = mkdtempSync(join(tmpdir(), 'leakwatch-test-run-'));
  // Worker processes inherit the environment, and os.tmpdir() reads TMPDIR on each call.
  process.env['TMPDIR'] = root;
  return () => {
    const left = leftovers(root);
    if (left.length > 0) {
      process.stderr.write(`[global teardown] ${left.length} temp entries left by tests (removed now):\n${left.map((l) => `  ${l}`).join('\n')}\n`);
    }
    rmSync(root, { recursive: true, force: true });
    if (original === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = original;
  };
}
