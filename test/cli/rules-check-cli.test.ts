import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('leakwatch rules check (the real command)', () => {
  it('with no path checks the built-in packs', async () => {
    const { stdout } = await run('node', ['dist/cli/main.js', 'rules', 'check']);
    expect(stdout).toMatch(/ok {2}matrix /);
    expect(stdout).toMatch(/3 packs, \d+ rules: ok/);
  });

  it('a bad pack: file:line:col and field on stderr, exit 2', async () => {
    await expect(run('node', ['dist/cli/main.js', 'rules', 'check', 'test/fixtures/packs/bad/path-extractor.yaml'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/path-extractor\.yaml:15:29: rules\[0\]\.extract\[0\]\.name: placeholder \{roomId\}/),
    });
  });
});
