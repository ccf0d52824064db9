import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../cli/analyze.js';

const HAR = 'test/fixtures/har/element-session.har';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

async function analyzeJson(flags: Record<string, unknown>) {
  const out = sink();
  const err = sink();
  const code = await analyzeCommand(HAR, { json: true, ...flags }, out.stream, err.stream);
  const lines = out.text().trimEnd().split('\n');
  return { code, rows: lines.map((l) => JSON.parse(l) as Record<string, any>), lines, stderr: err.text() };
}

describe('leakwatch analyze', () => {
  it('prints one JSON object per HAR entry, in order, with its 0-based index; problems go to stderr', async () => {
    const { code, rows, stderr } = await analyzeJson({ firstParty: ['matrix.example.org'] });
    expect(code).toBe(0);
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2, 3]);
    expect(rows[3]).toMatchObject({ method: '', url: '', rule: null, leaks: [] });
    expect(stderr).toMatch(/entry 3/);
  });

  it('classifies the identity lookup and finds the user\'s contacts behind the hashes', async () => {
    const { rows } = await analyzeJson({
      firstParty: ['matrix.example.org'],
      identity: ['email=bob@example.com', 'phone=+447700900123'],
    });
    const lookup = rows[0]!;
    expect(lookup).toMatchObject({
      method: 'POST', url: 'https://vector.im/_matrix/identity/v2/lookup', status: 200,
      category: 'identity-server', rule: 'matrix.identity.v2.lookup', verdict: 'would-neutralize',
    });
    const leaks = lookup.leaks as Array<{ kind: string; value: string; where: string; method: string }>;
    expect(leaks).toContainEqual(expect.objectContaining({ kind: 'email', value: 'bob@example.com', where: 'request.body.addresses[0]' }));
    expect(leaks).toContainEqual(expect.objectContaining({ kind: 'phone', where: 'request.body.addresses[1]' }));
    expect(leaks).toContainEqual(expect.objectContaining({ kind: 'contact_hash', value: '8tKbIM8ECZCrzWaEDwSJrS5_l9pNMEEMYFGYNe1qx5M' }));
    expect(leaks.find((l) => l.kind === 'email')!.method).toMatch(/^known-value:/);
    expect(leaks).toContainEqual(expect.objectContaining({ kind: 'user_agent', where: 'request.header.user-agent' }));
  });

  it('does not call a first-party /sync a leak, and names the integration manager', async () => {
    const { rows } = await analyzeJson({ firstParty: ['matrix.example.org'] });
    expect(rows[1]).toMatchObject({ rule: null, category: null, leaks: [], verdict: 'allow' });
    expect(rows[2]).toMatchObject({ category: 'integration-manager', rule: 'element.integrations.scalar.register' });
    expect(rows[2]!.leaks).toContainEqual(expect.objectContaining({ kind: 'token', value: 'GgjePJgsukxWCyzeX9f9RoZq' }));
  });

  it('runs as a real command: exit 0, stdout holds only JSON lines', async () => {
    const { stdout } = await promisify(execFile)('node', ['dist/cli/main.js', 'analyze', HAR, '--json', '--first-party', 'matrix.example.org']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it.each([
    [['analyze', 'no-such.har'], /no-such.har: ENOENT/],
    [['analyze', 'package.json', '--json'], /not a HAR file/],
    [['analyze', HAR, '--identity', 'bogus'], /identity/],
  ])('fails with one clear line and a non-zero exit: %j', async (args, message) => {
    const run = promisify(execFile)('node', ['dist/cli/main.js', ...args]);
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(message) });
  });
});
