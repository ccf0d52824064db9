/**
 * The README's first ten minutes, run as written from the repository: its quick-start commands,
 * `npx leakwatch ca --export ~/…`, `npm start -- …` with a client request through the proxy, an
 * export of what was recorded, and the `analyze --fail-on` CI example. HOME is a temp dir, so
 * `~/.leakwatch` and `~/leakwatch-ca` are the test's own (`npm ci` itself is CI's job).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/built.js';
import { envWithHome, MAIN, run, startProcess, type Started } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp.js';
import { until } from '../helpers/until.js';

const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const FINGERPRINT = /([0-9A-F]{2}:){31}[0-9A-F]{2}/;

/** The commands of the README's first shell block, comments dropped. */
const quickStart = (): string[] =>
  /```sh\n([\s\S]*?)```/.exec(README)![1]!.split('\n').map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
const readmeLine = (prefix: string): string => {
  const line = README.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`README has no line starting with ${prefix}`);
  return line.trim();
};

describe('the README, read by a newcomer', () => {
  it('shows the command only as `npx leakwatch …` or `npm start -- …` (a bare `leakwatch` is not on the PATH)', () => {
    const bare = [...README.matchAll(/leakwatch (start|ca|analyze|export|purge|rules|report|diff|--version|--help|-V)\b/g)]
      .filter((m) => !README.slice(Math.max(0, m.index - 4), m.index).endsWith('npx '))
      .map((m) => README.slice(Math.max(0, m.index - 30), m.index + 30).replace(/\n/g, ' '));
    expect(bare).toEqual([]);
    expect(quickStart().every((c) => /^(npm (ci|start|test)|npx leakwatch)\b/.test(c))).toBe(true);
  });

  it('cites the 2019 review by its title and points nowhere outside the repository, with no internal issue numbers', () => {
    expect(README.replace(/\s+/g, ' ')).toContain('*Notes on privacy and data collection of Matrix.org*');
    expect(README).not.toMatch(/\.\.\/|\/work\/|shared\/seed/);
    expect(README).not.toMatch(/\bissues?[- ]#?\d+/i);
    expect(README).not.toMatch(/^## Status/m);
    expect(README).toMatch(/^## What works and known limits$/m);
    // Relative links resolve inside the clone.
    for (const [, target] of README.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) expect(existsSync(join(repoRoot, target!)), target).toBe(true);
  });
});

describe('the README examples, run as written', () => {
  const home = tempDir('lw-readme-home-');
  const env = envWithHome(home);
  let origin: Server;
  let originPort = 0;
  let lw: Started | undefined;
  let caFingerprint = '';

  beforeAll(async () => {
    origin = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originPort = (origin.address() as { port: number }).port;
  });
  afterAll(async () => {
    await lw?.stop();
    await new Promise((r) => origin.close(r));
  });

  it('`npx leakwatch --version` and `-V` print the version of package.json', async () => {
    expect(quickStart()).toContain('npx leakwatch --help');
    const [npx, short] = await Promise.all([run(['npx', 'leakwatch', '--version'], { env }), run([process.execPath, MAIN, '-V'], { env })]);
    expect(npx).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(short).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  }, 240_000);

  it('`npx leakwatch ca --export ~/leakwatch-ca` writes the three certificate files, never the key', async () => {
    const line = quickStart().find((c) => c.startsWith('npx leakwatch ca --export'))!;
    expect(line).toBe('npx leakwatch ca --export ~/leakwatch-ca');
    const r = await run(line, { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`CA certificate: ${join(home, '.leakwatch', 'ca', 'leakwatch-ca.pem')}`);
    caFingerprint = FINGERPRINT.exec(r.stdout)![0];
    for (const f of ['leakwatch-ca.pem', 'leakwatch-ca.der', 'leakwatch-ca.crt']) expect(existsSync(join(home, 'leakwatch-ca', f))).toBe(true);
    expect(readFileSync(join(home, 'leakwatch-ca', 'leakwatch-ca.pem'), 'utf8')).not.toMatch(/PRIVATE KEY/);
    expect(statSync(join(home, '.leakwatch', 'ca', 'leakwatch-ca-key.pem')).mode & 0o777).toBe(0o600);
  }, 240_000);

  it('`npm start -- …` prints the banner (version, named session, CA, next step) and records a request', async () => {
    expect(quickStart()).toContain('npm start');
    lw = await startProcess(
      ['npm', 'start', '--', '--port', '0', '--dashboard-port', '0', '--session', 'readme-demo', '--resolve', `tracker.test=127.0.0.1:${originPort}`],
      { env, ready: /^Next: .*\n/m, timeoutMs: 120_000 },
    );
    const banner = lw.stdout().slice(lw.stdout().indexOf(`leakwatch ${VERSION}:`));
    const m = /^leakwatch (\S+): proxy (http:\/\/127\.0\.0\.1:(\d+)) · dashboard (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)\n/.exec(banner);
    expect(m, banner).not.toBeNull();
    const [, version, proxyUrl, proxyPort, dashboard, token] = m!;
    expect(version).toBe(VERSION);
    expect(banner).toContain(`  CA ${join(home, '.leakwatch', 'ca', 'leakwatch-ca.pem')} (SHA-256 ${caFingerprint})\n`);
    expect(banner).toContain('  mode observe · session "readme-demo"\n');
    expect(banner).toMatch(/^Next: trust the CA .*npx leakwatch ca --export DIR.*http:\/\/127\.0\.0\.1:\d+\.$/m);
    // Not a terminal: the log lines are JSON on stderr, after the banner.
    await until(() => /"msg":"dashboard listening"/.test(lw!.stderr()), { what: 'the first JSON log line' });

    const health = (await (await fetch(`${dashboard}/api/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as { version: string };
    expect(health.version).toBe(VERSION);

    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: Number(proxyPort), path: 'http://tracker.test/collect?email=alice%40example.org', headers: { host: 'tracker.test' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject).end();
    });
    expect(status).toBe(200);
    expect(proxyUrl).toBe(`http://127.0.0.1:${proxyPort}`);
    await until(async () => {
      const r = await fetch(`${dashboard}/api/flows?host=tracker.test`, { headers: { authorization: `Bearer ${token}` } });
      return ((await r.json()) as { flows: unknown[] }).flows.length > 0;
    }, { timeoutMs: 10_000, what: 'the request in /api/flows' });
    await lw.stop();
    expect(lw.stderr()).toMatch(/"msg":"stopping: finishing in-flight exchanges/);
  }, 240_000);

  it('`npx leakwatch export --format jsonl --session NAME` gives back the recorded request and its finding', async () => {
    const r = await run(['npx', 'leakwatch', 'export', '--format', 'jsonl', '--session', 'readme-demo'], { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { url: string; session: string; leaks: Array<{ kind: string; value: string }> });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ url: 'http://tracker.test/collect?email=alice%40example.org', session: 'readme-demo' });
    expect(rows[0]!.leaks).toContainEqual(expect.objectContaining({ kind: 'email', value: 'alice@example.org' }));
  }, 240_000);

  it('the CI example `npx leakwatch analyze … --fail-on email` exits 1 and says where', async () => {
    const line = readmeLine('npx leakwatch analyze ');
    const r = await run(line, { env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('test/fixtures/har/element-session.har: --fail-on email: found in 1 entry (index 0)');
    expect(r.stdout).toContain('bob@example.com');
  }, 240_000);
});
