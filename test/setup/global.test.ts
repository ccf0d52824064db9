import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distProblem } from '../helpers/built.js';
import { leftovers } from './global.js';

describe('vitest global setup', () => {
  it('gives the run its own TMPDIR, inherited by the test workers', () => {
    expect(basename(tmpdir())).toMatch(/^leakwatch-test-run-/);
    expect(existsSync(tmpdir())).toBe(true);
  });

  it('has built dist/ from the current sources before any test runs', () => {
    expect(distProblem()).toBe('');
  });

  it('names the leftovers of a run and marks the ones holding a private key', () => {
    const root = mkdtempSync(join(tmpdir(), 'lw-leftovers-'));
    try {
      mkdirSync(join(root, 'lw-a', 'data', 'ca'), { recursive: true });
      writeFileSync(join(root, 'lw-a', 'data', 'ca', 'leakwatch-ca-key.pem'), 'x');
      mkdirSync(join(root, 'lw-b'));
      expect(leftovers(root).sort()).toEqual(['lw-a (holds a private key)', 'lw-b']);
      expect(leftovers(join(root, 'missing'))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(existsSync(dirname(root))).toBe(true);
  });
});
