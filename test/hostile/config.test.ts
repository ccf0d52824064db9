/**
 * Bad configuration, through the real CLI: every `start` flag with a wrong value, rule packs with
 * each kind of error, a data dir that cannot be one, occupied ports. Each must give exactly one
 * clear line on stderr naming what and where, a non-zero exit, and nothing half-started: no
 * listener left, no stray process, no data dir created for flag errors.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/built.js';
import { RulePackError } from '../../core/errors.js';
import { loadRuleset } from '../../rules/load.js';
import { CLI, tempDir } from './harness.js';

interface Run { code: number | null; stdout: string; stderr: string; ms: number }

function runStart(args: readonly string[], dataDir: string, timeoutMs = 60_000): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', dataDir, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    // 'close', not 'exit': on a busy machine 'exit' can come before the last stderr chunk is read.
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The error lines (pino's JSON info lines, e.g. "dashboard listening", are not errors). */
const errorLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{"level":30'));

function expectOneClearLine(r: Run, mentions: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).not.toBe(0);
  expect(r.code).not.toBeNull();
  const lines = errorLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^leakwatch: /);
  expect(lines[0]).toMatch(mentions);
  expect(lines[0]!.length).toBeLessThan(400);
  expect(r.stdout).not.toMatch(/proxy http/);
}

const bad = join(repoRoot, 'test/fixtures/packs/bad');

describe.concurrent('every start flag with a wrong value', { timeout: 90_000 }, () => {
  it.each([
    [['--port', 'abc'], /--port/],
    [['--port', '65536'], /--port/],
    [['--port', '-1'], /--port/],
    [['--port', '1.5'], /--port/],
    [['--dashboard-port', 'x'], /--dashboard-port/],
    [['--dashboard-port', '99999'], /--dashboard-port/],
    [['--port', '7000', '--dashboard-port', '7000'], /--dashboard-port 7000: same as --port/],
    [['--host', 'localhost.evil'], /--host/],
    [['--host', '999.1.1.1'], /--host/],
    [['--host', '0.0.0.0'], /--host 0\.0\.0\.0: refusing .*--allow-client/],
    [['--dashboard-host', 'nothost'], /--dashboard-host/],
    [['--resolve', 'bad'], /--resolve "bad"/],
    [['--upstream-ca', '/nonexistent/ca.pem'], /--upstream-ca \/nonexistent\/ca\.pem/],
    [['--upstream-ca', join(repoRoot, 'package.json')], /--upstream-ca .*package\.json: no PEM/],
    [['--passthrough', '../x'], /--passthrough: "\.\.\/x"/],
    [['--passthrough', 'https://a.test/'], /--passthrough/],
    [['--allow-client', 'junk', '--host', '0.0.0.0'], /--allow-client "junk"/],
    [['--first-party', 'a b'], /--first-party: "a b"/],
    [['--identity', 'bad'], /--identity/],
    [['--identities', '/nonexistent/ids.txt'], /--identities \/nonexistent\/ids\.txt/],
    [['--rules', '/nonexistent/pack.yaml'], /\/nonexistent\/pack\.yaml/],
    [['--mode', 'x'], /--mode/],
    [['--store-bodies', 'x'], /--store-bodies/],
    [['--retention-days', '0'], /--retention-days/],
    [['--retention-days', 'ten'], /--retention-days/],
    [['--session', ''], /--session/],
    [['--headers-timeout', '0'], /--headers-timeout/],
    [['--max-connections', 'many'], /--max-connections/],
    [['--upstream-timeout', '-5'], /--upstream-timeout/],
    [['--no-such-flag'], /unknown option '--no-such-flag'/],
    [['--port'], /--port/],
  ])('%j', async (args, mentions) => {
    const dir = join(tempDir(), 'data');
    const r = await runStart(args as string[], dir);
    expectOneClearLine(r, mentions as RegExp);
    expect(r.code).toBe(2);
    // Flags are checked before anything is created.
    expect(existsSync(dir), 'data dir created for a flag error').toBe(false);
  });
});

// Sequential: each run loads the whole engine; five at once on a busy 2-CPU box took > 15 s each.
describe('rule packs with each kind of error', { timeout: 90_000 }, () => {
  // One pack per kind of error through the CLI (YAML syntax, schema, host pattern, duplicate id,
  // duplicates across packs); every fixture in-process below (each CLI
  // run that reaches the packs loads the whole engine first: ~1.5 s of CPU).
  const kinds = ['syntax.yaml', 'unknown-key.yaml', 'host.yaml', 'dup-id.yaml'];
  it.each(kinds)('%s', async (file) => {
    const dir = join(tempDir(), 'data');
    const r = await runStart(['--rules', join(bad, file)], dir);
    expect(r.code).toBe(2);
    const lines = errorLines(r.stderr);
    // A pack error names the file, then each problem as file:line:col (one line per problem).
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines[0]).toMatch(/^leakwatch: /);
    expect(r.stderr).toContain(file);
    expect(existsSync(dir)).toBe(false);
  });

  it('every bad fixture: loadRuleset throws a RulePackError naming the file (in-process)', () => {
    for (const file of readdirSync(bad).filter((f) => f.endsWith('.yaml'))) {
      let err: unknown;
      try {
        loadRuleset({ builtin: false, extra: [join(bad, file)] });
      } catch (e) {
        err = e;
      }
      expect(err, file).toBeInstanceOf(RulePackError);
      expect((err as Error).message, file).toContain(file);
    }
  });

  it('duplicate rule ids across two packs', async () => {
    const r = await runStart(['--rules', join(repoRoot, 'test/fixtures/packs/dup-ids')], join(tempDir(), 'data'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dup/i);
  });
});

describe('the data dir', { timeout: 90_000 }, () => {
  it('a data dir whose parent is a regular file (fails even for root)', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'file'), 'x');
    const r = await runStart([], join(d, 'file', 'data'));
    expectOneClearLine(r, /--data-dir .*file\/data: cannot create it \(a parent is not a directory\)/);
    expect(r.code).toBe(2);
  });

  it('a data dir that is a regular file', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'file'), 'x');
    const r = await runStart([], join(d, 'file'));
    expectOneClearLine(r, /--data-dir .*file: not a directory/);
    expect(r.code).toBe(2);
  });

  it.each(['/proc/self/leakwatch-data', '/sys/leakwatch-data'])('a data dir where even root cannot create one: %s', async (dir) => {
    const r = await runStart([], dir);
    expectOneClearLine(r, new RegExp(`--data-dir ${dir}: cannot create it`));
    expect(r.code).toBe(2);
  });

  // root ignores the mode bits: the cases above are the ones that fail for root too.
  it.skipIf(process.getuid?.() === 0)('a data dir that is not writable (chmod 500)', async () => {
    const d = join(tempDir(), 'ro');
    mkdirSync(d);
    chmodSync(d, 0o500);
    const r = await runStart([], d, 8000);
    expectOneClearLine(r, /--data-dir .*: not writable/);
  });
});

async function occupy(): Promise<{ port: number; close(): Promise<void> }> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as net.AddressInfo).port, close: () => new Promise((r) => s.close(() => r())) };
}

/** True when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('occupied ports', { timeout: 90_000 }, () => {
  it('the proxy port in use: one line naming it, exit 2, the dashboard is not left listening', async () => {
    const busy = await occupy();
    const dash = await occupy();
    const dashPort = dash.port;
    await dash.close();
    const dir = join(tempDir(), 'data');
    const r = await runStart(['--port', String(busy.port), '--dashboard-port', String(dashPort)], dir);
    expectOneClearLine(r, new RegExp(`--port 127\\.0\\.0\\.1:${busy.port}: address already in use`));
    expect(r.code).toBe(2);
    expect(r.ms).toBeLessThan(10_000);
    expect(await listening(dashPort)).toBe(false);
    expect(existsSync(dir), 'data dir created although the port was busy').toBe(false);
    await busy.close();
  });

  it('the dashboard port in use: one line naming it, exit 2, the proxy port is not left listening', async () => {
    const busy = await occupy();
    const proxy = await occupy();
    const proxyPort = proxy.port;
    await proxy.close();
    const dir = join(tempDir(), 'data');
    const r = await runStart(['--dashboard-port', String(busy.port), '--port', String(proxyPort)], dir);
    expectOneClearLine(r, new RegExp(`--dashboard-port 127\\.0\\.0\\.1:${busy.port}: address already in use`));
    expect(r.code).toBe(2);
    expect(await listening(proxyPort)).toBe(false);
    expect(existsSync(dir), 'data dir created although the port was busy').toBe(false);
    await busy.close();
  });
});
