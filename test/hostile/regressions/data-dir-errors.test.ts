// Defects: (1) `--data-dir /proc/self/x` hung forever: Node's recursive mkdir loops on /proc
// (ENOENT although the parent exists); core/paths.ts now creates missing levels one by one.
// (2) a data dir whose parent is a file, or that is a file, failed with a raw ENOTDIR from deep in
// the CA code (exit 1, no flag named); cli/start.ts now says "--data-dir X: ..." and exits 2.
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ensureDataDir } from '../../../core/paths.js';
import { repoRoot } from '../../helpers/built.js';
import { CLI, tempDir } from '../harness.js';

it('ensureDataDir fails fast under /proc instead of looping', () => {
  const t0 = Date.now();
  expect(() => ensureDataDir('/proc/self/leakwatch-x/y')).toThrow(/ENOENT/);
  expect(Date.now() - t0).toBeLessThan(1000);
});

it('ensureDataDir still creates nested missing levels, 0700', () => {
  const d = join(tempDir(), 'a', 'b', 'c');
  ensureDataDir(d);
  expect(statSync(d).mode & 0o777).toBe(0o700);
});

it.each([
  ['parent is a file', (d: string) => join(d, 'f', 'data'), /--data-dir .*: cannot create it \(a parent is not a directory\)/],
  ['is a file', (d: string) => join(d, 'f'), /--data-dir .*: not a directory/],
  ['under /proc', () => '/proc/self/lw-data', /--data-dir \/proc\/self\/lw-data: cannot create it/],
])('start with a data dir that %s: one line, exit 2', (_n, dir, msg) => {
  const d = tempDir();
  writeFileSync(join(d, 'f'), 'x');
  const r = spawnSync(process.execPath, [CLI, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', dir(d)], { cwd: repoRoot, timeout: 15_000, encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(msg);
});
