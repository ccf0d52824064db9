/** Temp dirs for the certs tests, removed after each file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export function tempDirs(): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'lw-certs-'));
    made.push(d);
    return d;
  };
}

export const modeOf = (st: { mode: number }): number => st.mode & 0o777;
