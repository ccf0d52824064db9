/**
 * Where things live. The package root holds the built-in rule packs and the dashboard's static
 * files whether we run from source (vitest) or from dist/ (npm start). The data dir holds personal
 * data (captures) and the CA key, so it is created 0700.
 */
import { existsSync, mkdirSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rules'))) return (cachedRoot = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('leakwatch: cannot find the package root');
    dir = up;
  }
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['LEAKWATCH_DATA_DIR'] ?? join(homedir(), '.leakwatch'));
}

/** Create the data dir (0700) if needed and return its absolute path. */
export function ensureDataDir(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs)) {
    // Level by level, not mkdirSync({ recursive: true }): on /proc (mkdir says ENOENT although the
    // parent exists) Node's recursive mkdir loops forever, and `leakwatch start` hung.
    const missing: string[] = [];
    for (let d = abs; !existsSync(d); d = dirname(d)) {
      missing.unshift(d);
      if (dirname(d) === d) break;
    }
    for (const d of missing) mkdirSync(d, { mode: 0o700 });
    chmodSync(abs, 0o700);
  }
  return abs;
}
