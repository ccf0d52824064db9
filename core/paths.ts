/**
 * Where things live. The package root holds the built-in rule packs and the dashboard's static
 * files whether we run from source (vitest) or from dist/ (npm start). The data dir holds personal
 * data (captures) and the CA key, so it is created 0700.
 */
import { existsSync, mkdirSync, chmodSync, statSync } from 'node:fs';
import { ConfigError } from './errors.js';
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

/**
 * Create the data dir (0700) if needed and return its absolute path. An existing one that group
 * or others may enter (0755, 0777) is tightened to 0700: it holds the CA key, the dashboard token
 * and the captures. When that is not allowed (another user's folder), leakwatch refuses to use it.
 */
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
    return abs;
  }
  const st = statSync(abs);
  if (st.isDirectory() && (st.mode & 0o077) !== 0) {
    try {
      chmodSync(abs, 0o700);
    } catch (err: unknown) {
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      throw new ConfigError(`--data-dir ${abs}: mode ${mode} lets other users read the captures and the CA key, and it cannot be set to 0700 (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); use a folder of your own`);
    }
  }
  return abs;
}
