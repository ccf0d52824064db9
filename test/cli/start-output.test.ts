/**
 * What `leakwatch start` prints: on a terminal (a pseudo-terminal from util-linux `script`) the
 * banner comes first and log lines are plain text after it; `--log-file` moves the JSON lines to
 * a file; `--identity` kinds are listed in --help and in the error; every subcommand's help shows
 * an example. The banner itself is tested as a function for the parts a process run cannot reach
 * cheaply (saved overrides).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBanner } from '../../cli/start.js';
import { VERSION } from '../../cli/version.js';
import { plainLine } from '../../core/log.js';
import { KINDS } from '../../core/vocabulary.js';
import type { OverrideRecord } from '../../store/overrides.js';
import { repoRoot } from '../helpers/built.js';
import { MAIN, run, startProcess } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp.js';
import { until } from '../helpers/until.js';

const SCRIPT = '/usr/bin/script';
const dir = tempDir('lw-start-output-');
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const override = (o: Partial<OverrideRecord> & Pick<OverrideRecord, 'kind'>): OverrideRecord => ({
  id: 1, ruleId: null, action: null, host: null, path: null, client: null, decision: null, createdAt: 0, expiresAt: null, note: null, ...o,
});
const running = {
  proxyUrl: 'http://127.0.0.1:8080',
  dashboardUrl: 'http://127.0.0.1:8081',
  token: 'T0KEN',
  caPath: '/home/u/.leakwatch/ca/leakwatch-ca.pem',
  caFingerprint: 'AA:BB',
  sessionName: 'element-login',
  savedOverrides: [] as OverrideRecord[],
  listeners: { stun: [] },
};

describe('the start-up banner', () => {
  it('names the version, proxy, dashboard link, CA and fingerprint, mode, session name and the next step', () => {
    const text = startBanner(running, 'observe', '/home/u/.leakwatch');
    expect(text.split('\n')).toEqual([
      `leakwatch ${VERSION}: proxy http://127.0.0.1:8080 · dashboard http://127.0.0.1:8081/?token=T0KEN`,
      '  CA /home/u/.leakwatch/ca/leakwatch-ca.pem (SHA-256 AA:BB)',
      '  mode observe · session "element-login"',
      expect.stringMatching(/^Next: trust the CA on each client \(the dashboard's Setup page, or npx leakwatch ca --export DIR --data-dir \/home\/u\/\.leakwatch\), then set its proxy to http:\/\/127\.0\.0\.1:8080\.$/),
      '',
    ]);
  });

  it('lists the saved overrides in force (five, then a count)', () => {
    const saved = [
      override({ kind: 'rule-action', ruleId: 'element.analytics.posthog', action: 'block' }),
      override({ kind: 'block', host: 'vector.im', path: '/_matrix/identity' }),
      override({ kind: 'allow-client', client: '192.168.1.0/24' }),
      override({ kind: 'hold-decision', ruleId: 'matrix.identity.v2.lookup', decision: 'deny' }),
      override({ kind: 'block', host: 'a.example', path: '' }),
      override({ kind: 'block', host: 'b.example', path: '' }),
    ];
    const text = startBanner({ ...running, savedOverrides: saved }, 'enforce', '/x');
    expect(text).toContain('  mode enforce · session "element-login"\n');
    expect(text).toContain('  saved overrides in force (dashboard → Overrides): element.analytics.posthog=block, block vector.im/_matrix/identity, '
      + 'allow client 192.168.1.0/24, deny matrix.identity.v2.lookup, block a.example, +1 more\n');
    expect(startBanner(running, 'observe', '/x')).not.toContain('saved overrides');
  });

  it('turns a JSON log line into one plain line, keeping its fields', () => {
    expect(plainLine('{"level":40,"time":0,"host":"vector.im","n":2,"msg":"slow upstream"}\n')).toBe('00:00:00 warn  slow upstream host=vector.im n=2\n');
    expect(plainLine('not json')).toBe('not json\n');
  });
});

describe.skipIf(!existsSync(SCRIPT))('leakwatch start on a terminal', () => {
  it('prints the banner first, then plain log lines (no JSON)', async () => {
    const cmd = [process.execPath, MAIN, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', join(dir, 'tty'), '--session', 'tty-run'].map(quote).join(' ');
    const lw = await startProcess([SCRIPT, '-qec', cmd, '/dev/null'], { ready: /dashboard listening/, timeoutMs: 120_000 });
    const code = await lw.stop();
    const out = lw.stdout().replace(/\r\n/g, '\n');
    const lines = out.split('\n').filter(Boolean);
    expect(lines[0]).toMatch(new RegExp(`^leakwatch ${VERSION.replace(/\./g, '\\.')}: proxy http://127\\.0\\.0\\.1:\\d+ · dashboard http://127\\.0\\.0\\.1:\\d+/\\?token=\\S+$`));
    expect(lines[1]).toMatch(/^ {2}CA \S+leakwatch-ca\.pem \(SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\)$/);
    expect(lines[2]).toBe('  mode observe · session "tty-run"');
    expect(lines[3]).toMatch(/^Next: trust the CA/);
    expect(lines.slice(4).some((l) => /^\d\d:\d\d:\d\d info {2}dashboard listening url=http:\/\/127\.0\.0\.1:\d+$/.test(l))).toBe(true);
    expect(out).not.toContain('{"level"');
    expect(code).toBe(0);
  }, 180_000);

  it('--log-format json: JSON log lines on the terminal too, still after the banner', async () => {
    const cmd = [process.execPath, MAIN, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', join(dir, 'tty-json'), '--log-format', 'json'].map(quote).join(' ');
    const lw = await startProcess([SCRIPT, '-qec', cmd, '/dev/null'], { ready: /dashboard listening/, timeoutMs: 120_000 });
    await lw.stop();
    const lines = lw.stdout().replace(/\r\n/g, '\n').split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^leakwatch \S+: proxy http:/);
    const json = lines.filter((l) => l.startsWith('{'));
    expect(lines.indexOf(json[0]!)).toBeGreaterThan(lines.findIndex((l) => l.startsWith('Next: ')));
    expect(json.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('dashboard listening');
  }, 180_000);
});

describe('leakwatch start flags and help', () => {
  it('--log-file: JSON lines go to the file (0600), stderr stays quiet', async () => {
    const log = join(dir, 'leakwatch.log');
    const lw = await startProcess([process.execPath, MAIN, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', join(dir, 'file'), '--log-file', log], { ready: /^Next: /m, timeoutMs: 120_000 });
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('dashboard listening'), { timeoutMs: 10_000, what: 'the log file' });
    await lw.stop();
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['dashboard listening', 'stopping: finishing in-flight exchanges (up to 5 s), then flushing']));
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(lw.stderr()).toBe('');
  }, 180_000);

  it('an unknown --identity kind: one line naming every kind, exit 2, nothing created', async () => {
    const data = join(dir, 'never');
    const r = await run([process.execPath, MAIN, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', data, '--identity', 'foo=bar']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`leakwatch: --identity: unknown kind "foo" (kinds: ${KINDS.join(', ')})\n`);
    expect(existsSync(data)).toBe(false);
  });

  it('a bad --log-format is refused with the choices', async () => {
    const r = await run([process.execPath, MAIN, 'start', '--log-format', 'pretty']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--log-format.*pretty.*Allowed choices are plain, json/);
  });

  it('every subcommand\'s help shows an example; start and analyze list the --identity kinds', () => {
    const help = (...args: string[]): string => execFileSync(process.execPath, [MAIN, ...args, '--help'], { cwd: repoRoot, encoding: 'utf8' });
    for (const [args, example] of [
      [['start'], '$ npx leakwatch start'],
      [['analyze'], '$ npx leakwatch analyze session.har'],
      [['export'], '$ npx leakwatch export --format har'],
      [['purge'], '$ npx leakwatch purge --value'],
      [['rules', 'check'], '$ npx leakwatch rules check'],
      [['ca'], '$ npx leakwatch ca --export'],
    ] as const) expect(help(...args), args.join(' ')).toContain(example);
    for (const args of [['start'], ['analyze']]) {
      const text = help(...args).replace(/\s+/g, ' ');
      for (const k of KINDS) expect(text).toMatch(new RegExp(`--identity kinds: .*\\b${k}\\b`));
    }
    expect(help()).toMatch(/-V, --version +print the version/);
  });
});
