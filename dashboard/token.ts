/**
 * The dashboard token: 32 random bytes, base64url, created on first start in
 * <data-dir>/dashboard-token (0600) and kept across restarts so bookmarks and Prometheus configs
 * keep working. Delete the file to rotate it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { ensureDataDir } from '../core/paths.js';

export const TOKEN_FILE = 'dashboard-token';
const TOKEN_RE = /^[A-Za-z0-9_-]{32,}$/;

export function loadOrCreateDashboardToken(dataDir: string): string {
  const file = join(ensureDataDir(dataDir), TOKEN_FILE);
  const existing = readToken(file);
  if (existing) return existing;
  const token = randomBytes(32).toString('base64url');
  try {
    // 'wx': exclusive create, so two processes starting at once cannot both write different tokens.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    chmodSync(file, 0o600);
    return token;
  } catch (err: unknown) {
    const again = readToken(file);
    if (again) return again;
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConfigError(`${file}: not a valid dashboard token; delete the file to create a new one`);
    }
    throw err;
  }
}

function readToken(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (TOKEN_RE.test(text)) {
      chmodSync(file, 0o600); // repair loose permissions left by hand edits
      return text;
    }
    return undefined;
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
