/**
 * Temp dirs for tests, removed after the test file that made them. Data dirs hold CA private keys
 * and captured personal data, so none may outlive its test file.
 *
 * The `afterAll` below is registered when this module is first imported by a test file (vitest
 * isolates modules per file), so it runs after that file's own hooks: servers and children are
 * closed first, then their folders go. The process `exit` handler covers a file that crashed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

function removeAll(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

afterAll(removeAll);
process.once('exit', removeAll);

/** A fresh, empty directory under the OS temp dir, removed after the current test file. */
export function tempDir(prefix = 'lw-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
