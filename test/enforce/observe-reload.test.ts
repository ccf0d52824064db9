/**
 * observe mode changes nothing but records what enforce mode would have done; rule packs reload
 * live (Running.reloadRules, which SIGHUP calls; --watch-rules) and a broken pack keeps the old
 * rules running and shows up as `rejected` in the Rules view.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpViaProxy } from '../helpers/connect-client.js';
import type { Origin } from '../helpers/origin.js';
import { PACK, startEchoOrigin, startLw, type Lw, type Seen } from './harness.js';

const HOSTS = ['tracker.test', 'api.test', 'lookup.test', 'hold.test'];
let origin: Origin & { received: Seen[] };

beforeAll(async () => {
  origin = await startEchoOrigin();
});
afterAll(async () => {
  await origin?.close();
});

const proxyPort = (lw: Lw): number => Number(new URL(lw.running.proxyUrl).port);

describe('observe mode', () => {
  let lw: Lw;
  beforeAll(async () => {
    lw = await startLw({ mode: 'observe', action: ['test.api.matrix=block'], block: ['tracker.test/other'] }, HOSTS, origin.port);
  });
  afterAll(async () => lw?.close());

  it('forwards every request untouched and records would-block / would-neutralize / would-strip / would-hold', async () => {
    const p = proxyPort(lw);
    const body = JSON.stringify({ initial_device_display_name: 'Alice Pixel 7', keep: 1 });
    const cases: Array<[string, string, string, string]> = [
      ['GET', 'http://tracker.test/collect?uid=1', 'would-block', 'test.tracker.collect'],
      ['GET', 'http://tracker.test/other/x', 'would-block', 'block:tracker.test/other'],
      ['POST', 'http://lookup.test/lookup', 'would-neutralize', 'test.lookup.neutral'],
      ['POST', 'http://api.test/v1/profile?uid=7', 'would-strip', 'test.api.profile'],
      ['GET', 'http://hold.test/x', 'would-hold', 'test.hold.ask'],
      ['POST', 'http://api.test/_matrix/integrations/v1/account/register', 'would-block', 'test.api.matrix'],
    ];
    for (const [method, url, verdict, rule] of cases) {
      const r = await httpViaProxy(p, url, { method, headers: { 'content-type': 'application/json', referer: 'https://chat.example.org/', 'user-agent': 'Element/1.11' } }, method === 'POST' ? body : undefined);
      expect(r.status, url).toBe(200);
      const u = new URL(url);
      const seen = origin.received.filter((s) => s.headers.host === u.host && s.url === u.pathname + u.search).at(-1);
      expect(seen, url).toBeDefined();
      expect(seen!.headers['referer']).toBe('https://chat.example.org/');
      expect(seen!.headers['user-agent']).toBe('Element/1.11');
      if (method === 'POST') expect(seen!.bodyBytes.toString()).toBe(body);
      expect(await lw.flow(u.host, u.pathname), url).toMatchObject({ verdict, rule });
    }
  });

  it('export shows the would-* verdicts', async () => {
    const flows = await lw.dash.flows();
    expect(new Set(flows.map((f) => f.verdict))).toEqual(new Set(['would-block', 'would-neutralize', 'would-strip', 'would-hold']));
  });
});

describe('rule reloads', () => {
  let lw: Lw;
  let pack: string;
  let packDir: string;
  beforeAll(async () => {
    // The pack is a copy in a temp folder, so the test can edit it.
    packDir = mkdtempSync(join(tmpdir(), 'lw-pack-'));
    pack = join(packDir, 'pack.yaml');
    copyFileSync(PACK, pack);
    lw = await startLw({ mode: 'enforce', builtinRules: false, watchRules: true, rules: [pack] }, HOSTS, origin.port);
  });
  afterAll(async () => {
    await lw?.close();
    rmSync(packDir, { recursive: true, force: true });
  });

  const tracker = async (): Promise<number> => (await httpViaProxy(proxyPort(lw), 'http://tracker.test/collect?uid=1')).status;
  const rulesView = async () => (await lw.api('GET', '/api/rules')).json as { rules: Array<{ id: string; action: string }>; rejected: Array<{ message: string }> };

  it('reloadRules (what SIGHUP calls) swaps the packs in without a restart', async () => {
    expect(await tracker()).toBe(204);
    writeFileSync(pack, readFileSync(pack, 'utf8').replace('remediation: Block it.\n    action: block', 'remediation: Block it.\n    action: log'));
    expect(lw.running.reloadRules('test')).toBe(true);
    expect(await tracker()).toBe(200);
    expect((await rulesView()).rules.find((r) => r.id === 'test.tracker.collect')?.action).toBe('log');
  });

  it('--watch-rules reloads when the file changes', async () => {
    writeFileSync(pack, readFileSync(pack, 'utf8').replace('remediation: Block it.\n    action: log', 'remediation: Block it.\n    action: block'));
    let action = '';
    for (let i = 0; i < 100 && action !== 'block'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      action = (await rulesView()).rules.find((r) => r.id === 'test.tracker.collect')?.action ?? '';
    }
    expect(action).toBe('block');
    expect(await tracker()).toBe(204);
  });

  it('a broken pack keeps the old rules running and is reported in the Rules view', async () => {
    const good = readFileSync(pack, 'utf8');
    writeFileSync(pack, good.replace('category: analytics', 'category: analytix'));
    expect(lw.running.reloadRules('test')).toBe(false);
    const v = await rulesView();
    expect(v.rejected[0]?.message).toMatch(/pack\.yaml:\d+:\d+: rules\[0\]\.category: must be one of .*\(did you mean analytics\?\)/);
    expect(v.rules.find((r) => r.id === 'test.tracker.collect')?.action).toBe('block');
    expect(await tracker()).toBe(204);
    writeFileSync(pack, good);
    expect(lw.running.reloadRules('test')).toBe(true);
    expect((await rulesView()).rejected).toEqual([]);
  });
});
