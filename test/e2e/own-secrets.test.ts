/**
 * leakwatch's own secrets stay out of its records: the dashboard's token cookie sent by a browser
 * through the proxy is forwarded but never recorded, streamed or exported; a data dir others can
 * enter is tightened to 0700 (or refused when that is not allowed).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../cli/export.js';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dbPath } from '../../store/db.js';
import { ensureBuilt, repoRoot } from '../helpers/built.js';
import { dashboardClient } from '../helpers/matrix-e2e.js';
import { CLI } from '../hostile/harness.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

const HOST = 'app.example.test';

let dir: string;
let dataDir: string;
let origin: Origin;
let lw: Running | undefined;
let cookieName: string;

function collect(): { out: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return { out: new Writable({ write(c: Buffer, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }), text: () => Buffer.concat(chunks).toString('utf8') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-own-'));
  dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  chmodSync(dataDir, 0o777);
  origin = await startOrigin({ routes: { '*': (_req, res) => {
    res.setHeader('set-cookie', [`${cookieName}=${lw!.token}; Path=/; HttpOnly`, 'site=1; Path=/']);
    res.end('ok');
  } } });
  lw = await startLeakwatch(validateStartFlags({
    port: '0', dashboardPort: '0', dataDir, resolve: [`${HOST}=127.0.0.1:${origin.port}`], storeBodies: 'all',
  }), silentLogger);
  cookieName = `leakwatch_token_${new URL(lw.dashboardUrl).port}`;
  const agent = new ProxyAgent({ uri: lw.proxyUrl });
  const r = await request(`http://${HOST}/page`, { dispatcher: agent, headers: { cookie: `a=1; ${cookieName}=${lw.token}; b=2` } });
  await r.body.text();
  await agent.close();
  await dashboardClient(lw.dashboardUrl, lw.token).waitFor((l) => l.length >= 1, 5000);
}, 30_000);

afterAll(async () => {
  await lw?.close();
  await origin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the dashboard's own cookie", () => {
  it('is forwarded to where the browser sent it', () => {
    const raw = origin.seen[0]!.rawHeaders.join('\n');
    expect(raw).toContain(`${cookieName}=${lw!.token}`);
  });

  it('is not in the recorded exchange: the other cookies are', async () => {
    const dash = dashboardClient(lw!.dashboardUrl, lw!.token);
    const [flow] = await dash.flows();
    const detail = JSON.stringify(await dash.flow(flow!.id));
    expect(detail).toContain('a=1');
    expect(detail).toContain('site=1');
    expect(detail).not.toContain(lw!.token);
    expect(detail).not.toContain(cookieName);
  });

  it('is in no export and nowhere in the database files', async () => {
    const token = lw!.token;
    for (const format of ['jsonl', 'har', 'csv']) {
      const s = collect();
      await exportCommand({ dataDir, format, out: s.out });
      expect(s.text()).toContain(HOST);
      expect(s.text(), format).not.toContain(token);
    }
    const file = dbPath(dataDir);
    const bytes = [file, `${file}-wal`, `${file}-shm`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
    expect(bytes).not.toContain(token);
  });
});

describe('the data dir', () => {
  it('an existing 0777 data dir was tightened to 0700 at start', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it('a loose folder leakwatch may not change: `start` refuses it in one line, exit 2', () => {
    // /tmp is 1777 and belongs to root: chmod is refused to any other user. As root, run as nobody.
    ensureBuilt();
    const args = [CLI, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', '/tmp'];
    const asRoot = process.getuid?.() === 0;
    const r = asRoot
      ? spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, ...args], { cwd: repoRoot, timeout: 15_000, encoding: 'utf8' })
      : spawnSync(process.execPath, args, { cwd: repoRoot, timeout: 15_000, encoding: 'utf8' });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--data-dir \/tmp: mode 1777 lets other users read .* cannot be set to 0700 \(EPERM\)/);
    expect(r.status).toBe(2);
    expect(statSync('/tmp').mode & 0o7777).toBe(0o1777);
  });
});
