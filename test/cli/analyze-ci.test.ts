/**
 * `leakwatch analyze` as a CI check: errors name the file, data:/blob: entries are skipped with a
 * count, nothing analysable is exit 2, and `--fail-on KIND|SEVERITY` is exit 1 exactly when such a
 * leak is found. In-process (analyzeCommand) for the table, one real process for the exit code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { analyzeCommand, EXIT } from '../../cli/analyze.js';
import { ConfigError } from '../../core/errors.js';
import { KINDS } from '../../core/vocabulary.js';
import { MAIN, run } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp.js';

const entry = (url: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  startedDateTime: '2026-01-01T00:00:00Z', time: 1,
  request: { method: 'GET', url, httpVersion: 'HTTP/1.1', headers: [] },
  response: { status: 200, statusText: 'OK', headers: [], content: { size: 2, mimeType: 'application/json', text: '{}' } },
  ...extra,
});
/** The v1 identity lookup Riot made with the user's address in the query. */
const LEAK = entry('https://matrix.org/_matrix/identity/api/v1/lookup?medium=email&address=alice%40example.org');
/** The user's own homeserver, no personal data. */
const CLEAN = entry('https://matrix.example.org/_matrix/client/versions');
const DATA = entry('data:image/png;base64,iVBORw0KGgo=');
const BLOB = entry('blob:https://app.element.io/6c1f1c1e-7a8b-4c49-9a55-0d5c1a1f2b3c');

const dir = tempDir('lw-analyze-ci-');
let n = 0;
function har(entries: unknown[]): string {
  const file = join(dir, `capture-${n++}.har`);
  writeFileSync(file, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries } }));
  return file;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return { stream: new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }), text: () => chunks.join('') };
}

async function analyze(file: string, flags: Record<string, unknown> = {}) {
  const out = sink();
  const err = sink();
  const code = await analyzeCommand(file, { firstParty: ['matrix.example.org'], ...flags }, out.stream, err.stream);
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('analyze --fail-on', () => {
  it.each([
    ['email on a HAR that leaks an e-mail address', [LEAK, CLEAN], ['email'], EXIT.failOn],
    ['email on a HAR that does not', [CLEAN], ['email'], EXIT.ok],
    ['phone on a HAR whose only leak is an e-mail address', [LEAK], ['phone'], EXIT.ok],
    ['a severity the identity lookup reaches (high)', [LEAK], ['high'], EXIT.failOn],
    ['a severity on a first-party-only HAR', [CLEAN], ['info'], EXIT.ok],
    ['two values, one of them found', [LEAK], ['phone', 'EMAIL'], EXIT.failOn],
    ['nothing asked: leaks are reported, exit 0', [LEAK], [], EXIT.ok],
  ])('%s', async (_name, entries, failOn, code) => {
    const r = await analyze(har(entries), { failOn });
    expect(r.code).toBe(code);
    if (code === EXIT.failOn) expect(r.stderr).toMatch(/--fail-on (email|high): found in 1 entry \(index 0\)/);
    else expect(r.stderr).not.toMatch(/--fail-on/);
  });

  it('refuses an unknown value, listing the severities and every kind', async () => {
    const err = await analyze(har([CLEAN]), { failOn: ['emial'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^--fail-on: unknown kind or severity "emial" \(severities: info, low, medium, high; kinds: /);
    for (const k of KINDS) expect((err as Error).message).toContain(k);
  });
});

describe('analyze on what browsers and CI feed it', () => {
  it('skips data: and blob: entries quietly, with one count line, and keeps the indexes', async () => {
    const r = await analyze(har([DATA, LEAK, BLOB, DATA]), { json: true });
    expect(r.code).toBe(EXIT.ok);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { index: number; url: string });
    expect(rows.map((x) => x.index)).toEqual([1]);
    expect(r.stderr.trim().split('\n')).toEqual([`leakwatch: ${join(dir, `capture-${n - 1}.har`)}: 1 of 4 entries analysed, 3 data:/blob: skipped`]);
  });

  it.each([
    ['every entry invalid', [{ request: { url: 'not a url' } }, 'junk'], /entry 0: not an absolute URL[\s\S]*nothing to analyse/],
    ['only data: and blob: entries', [DATA, BLOB], /0 of 2 entries analysed, 2 data:\/blob: skipped[\s\S]*nothing to analyse/],
    ['no entries at all', [], /0 of 0 entries analysed[\s\S]*nothing to analyse/],
  ])('exits 2 when nothing could be analysed: %s', async (_name, entries, message) => {
    const file = har(entries);
    const r = await analyze(file);
    expect(r.code).toBe(EXIT.nothingAnalysed);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    for (const line of r.stderr.trim().split('\n')) expect(line.startsWith(`leakwatch: ${file}: `)).toBe(true);
  });

  it('names the file when it is not a HAR', async () => {
    const file = join(dir, 'not-a-har.json');
    writeFileSync(file, '{"entries":[]}');
    await expect(analyze(file)).rejects.toThrow(`${file}: not a HAR file: log.entries is missing`);
  });

  it('as a process: exit 1 with --fail-on email on a leak, 0 without a leak, 2 on a broken file', async () => {
    const leak = har([LEAK]);
    const clean = har([CLEAN]);
    const broken = join(dir, 'broken.har');
    writeFileSync(broken, '{"log":');
    const [a, b, c] = await Promise.all([
      run([process.execPath, MAIN, 'analyze', leak, '--fail-on', 'email']),
      run([process.execPath, MAIN, 'analyze', clean, '--first-party', 'matrix.example.org', '--fail-on', 'email']),
      run([process.execPath, MAIN, 'analyze', broken, '--fail-on', 'email']),
    ]);
    expect(a).toMatchObject({ code: 1, stderr: expect.stringContaining(`leakwatch: ${leak}: --fail-on email: found in 1 entry`) });
    expect(a.stdout).toContain('alice@example.org');
    expect(b).toMatchObject({ code: 0, stderr: '' });
    expect(c).toMatchObject({ code: 2, stderr: expect.stringMatching(new RegExp(`^leakwatch: ${broken}: not JSON`)) });
  });
});
