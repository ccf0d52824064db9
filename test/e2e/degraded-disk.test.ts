/**
 * A full disk never stops proxying. The data dir sits on a 4 MiB tmpfs (a real full disk,
 * not a simulation); once it is filled, clients keep getting their answers, the recorder reports
 * the failure through /api/health, and recording resumes when space comes back. Needs root to
 * mount; skipped (and says so) where mounting is not allowed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { proxiedFetch, type ProxiedFetch } from '../helpers/matrix-e2e.js';
import { identityServerHandler, standInPki, STANDIN, startStandIn, type StandIn } from '../helpers/matrix-standins.js';
import { until } from '../helpers/until.js';

const IS = 'vector.im';
let dir = '';
let mnt = '';
let mounted = false;
let is: StandIn | undefined;
let running: Running | undefined;
let f: ProxiedFetch | undefined;

try {
  dir = mkdtempSync(join(tmpdir(), 'lw-e2e-disk-'));
  mnt = join(dir, 'mnt');
  execFileSync('mkdir', ['-p', mnt]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' });
  mounted = true;
} catch {
  mounted = false;
}

interface Health {
  recorder: { written: number; failures: number; lastError: string | null; queued: number };
}

async function health(): Promise<Health> {
  const res = await fetch(`${running!.dashboardUrl}/api/health`, { headers: { authorization: `Bearer ${running!.token}` } });
  return (await res.json()) as Health;
}

/** The first health answer that passes `ok` (the shared until() fails the test when none does). */
const healthWhen = (ok: (h: Health) => boolean, ms: number): Promise<Health> =>
  until(async () => { const h = await health(); return ok(h) ? h : undefined; }, { timeoutMs: ms, intervalMs: 50, what: 'the recorder health to change' });

beforeAll(async () => {
  if (!mounted) return;
  const pki = await standInPki();
  is = await startStandIn(IS, pki, identityServerHandler({}));
  running = await startLeakwatch(
    validateStartFlags({ port: '0', dashboardPort: '0', dataDir: join(mnt, 'data'), resolve: [is.resolveSpec], upstreamCa: [pki.caFile], storeBodies: 'all' }),
    silentLogger,
  );
  f = proxiedFetch(running.proxyUrl, readFileSync(running.caPath, 'utf8'));
});

afterAll(async () => {
  await f?.close();
  await running?.close().catch(() => {});
  await is?.close();
  if (mounted) execFileSync('umount', ['-l', mnt]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!mounted)('recording on a full disk (tmpfs)', () => {
  const lookup = (): Promise<Response> =>
    f!.fetch(`https://${IS}/_matrix/identity/v2/lookup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${STANDIN.isToken}` },
      body: JSON.stringify({ addresses: ['x'.repeat(43)], pepper: STANDIN.pepper, algorithm: 'sha256', pad: 'y'.repeat(20_000) }),
    });

  it('keeps answering clients, reports the failure, and resumes when space returns', async () => {
    expect((await lookup()).status).toBe(200);
    await healthWhen((h) => h.recorder.written >= 1, 3000);

    // Fill the disk: a filler file takes everything that is left.
    const filler = join(mnt, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(8 * 1024 * 1024));
    } catch {
      // ENOSPC: the file holds what fitted, which is the point
    }
    for (let i = 0; i < 20; i++) expect((await lookup()).status).toBe(200);
    const failing = await healthWhen((h) => h.recorder.failures > 0, 5000);
    expect(failing.recorder.failures).toBeGreaterThan(0);
    expect(failing.recorder.lastError).toMatch(/SQLITE_FULL|disk|full/i);

    // Space comes back: the kept batch is written and new exchanges are recorded again.
    unlinkSync(filler);
    const before = failing.recorder.written;
    expect((await lookup()).status).toBe(200);
    const resumed = await healthWhen((h) => h.recorder.lastError === null && h.recorder.written > before, 8000);
    expect(resumed.recorder.lastError).toBeNull();
    expect(resumed.recorder.written).toBeGreaterThan(before);
  });
});
