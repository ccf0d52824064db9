/**
 * Every enforcement action live through `startLeakwatch` (real proxy, pipeline, SQLite,
 * dashboard) with real clients (curl, Node http/https, a `ws` client) against local stand-ins.
 * The stand-ins' request logs prove what reached the origin; the dashboard API shows the verdicts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { httpViaProxy } from '../helpers/connect-client.js';
import { splitHead } from '../helpers/curl.js';
import type { Origin } from '../helpers/origin.js';
import { absoluteFormConnection } from '../helpers/ws-client.js';
import { startEchoOrigin, startLw, type Echo, type Lw, type Seen } from './harness.js';

const run = promisify(execFile);
const HOSTS = ['tracker.test', 'api.test', 'lookup.test', 'ws.test', 'hold.test', 'blocked.test', 'free.test', 'wsblock.test'];

let origin: Origin & { received: Seen[] };
let lw: Lw;
let port: number;

beforeAll(async () => {
  origin = await startEchoOrigin();
  lw = await startLw(
    {
      mode: 'enforce',
      identity: ['email=bob@example.com'],
      block: ['blocked.test/secret', 'wsblock.test'],
      action: ['test.api.matrix=block'],
      holdTimeout: '1',
    },
    HOSTS,
    origin.port,
  );
  port = Number(new URL(lw.running.proxyUrl).port);
}, 30_000);

afterAll(async () => {
  await lw?.close();
  await origin?.close();
});

const arrived = (host: string, path: string): Seen[] => origin.received.filter((r) => r.headers.host === host && r.url.startsWith(path));
const curl = async (args: string[]): Promise<{ status: number; headers: string; body: Buffer }> => {
  const { stdout } = await run('/usr/bin/curl', ['--silent', '--show-error', '-D', '-', '--proxy', lw.running.proxyUrl, ...args], { encoding: 'buffer' });
  return splitHead(stdout);
};

describe('enforce mode, live', () => {
  it('block (curl): a beacon gets 204, the origin never sees it, the verdict names the rule', async () => {
    const r = await curl(['http://tracker.test/collect?uid=abc123&e=pageview']);
    expect(r.status).toBe(204);
    expect(r.body.length).toBe(0);
    expect(arrived('tracker.test', '/collect')).toHaveLength(0);
    const f = await lw.flow('tracker.test', '/collect');
    expect(f).toMatchObject({ verdict: 'block', rule: 'test.tracker.collect', status: 204 });
    const d = await lw.dash.flow(f.id);
    expect(JSON.stringify(d.notes)).toContain('leakwatch block (test.tracker.collect)');
  });

  it('block (--action on a /_matrix/ path): Matrix-style M_FORBIDDEN with 403', async () => {
    const r = await httpViaProxy(port, 'http://api.test/_matrix/integrations/v1/account/register', { method: 'POST', headers: { 'content-type': 'application/json' } }, '{"access_token":"t"}');
    expect(r.status).toBe(403);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body.toString())).toEqual({ errcode: 'M_FORBIDDEN', error: 'Blocked by leakwatch: test.api.matrix' });
    expect(arrived('api.test', '/_matrix/')).toHaveLength(0);
    expect(await lw.flow('api.test', '/_matrix/integrations')).toMatchObject({ verdict: 'block', rule: 'test.api.matrix' });
  });

  it('--block HOST/PATH: 403 text under the prefix, the rest of the host passes', async () => {
    const blocked = await curl(['http://blocked.test/secret/file.txt']);
    expect(blocked.status).toBe(403);
    expect(blocked.body.toString()).toBe('Blocked by leakwatch: block:blocked.test/secret\n');
    const open = await curl(['http://blocked.test/public']);
    expect(open.status).toBe(200);
    expect(arrived('blocked.test', '/secret')).toHaveLength(0);
    expect(arrived('blocked.test', '/public')).toHaveLength(1);
    expect(await lw.flow('blocked.test', '/secret')).toMatchObject({ verdict: 'block', rule: 'block:blocked.test/secret' });
    expect((await lw.flow('blocked.test', '/public')).verdict).toBe('allow');
  });

  it('neutralize (Node http): the canned answer from the pack; the origin never sees it', async () => {
    const r = await httpViaProxy(port, 'http://lookup.test/lookup?address=bob@example.com', { method: 'POST', headers: { 'content-type': 'application/json' } }, '{"address":"bob@example.com"}');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ results: [] });
    expect(arrived('lookup.test', '/lookup')).toHaveLength(0);
    const f = await lw.flow('lookup.test', '/lookup');
    expect(f).toMatchObject({ verdict: 'neutralize', rule: 'test.lookup.neutral' });
    expect(f.kinds).toContain('email');
  });

  it('strip: headers, query parameter and JSON fields gone; valid body with the right Content-Length', async () => {
    const body = JSON.stringify({ initial_device_display_name: 'Alice Pixel 7', device: { name: 'pixel', os: 'android' }, contacts: ['bob@example.com', 'carol@example.org'], keep: 1 });
    const r = await httpViaProxy(
      port,
      'http://api.test/v1/profile?uid=42&keep=yes',
      { method: 'POST', headers: { 'content-type': 'application/json', referer: 'https://chat.example.org/#/room', cookie: 'sid=1', 'accept-language': 'en-GB', 'user-agent': 'Element/1.11 (Pixel 7)', 'x-device-name': 'Alice Pixel 7', origin: 'https://chat.example.org' } },
      body,
    );
    expect(r.status).toBe(200);
    const seen = arrived('api.test', '/v1/profile').at(-1)!;
    expect(seen.url).toBe('/v1/profile?keep=yes');
    for (const h of ['referer', 'cookie', 'accept-language', 'x-device-name', 'origin']) expect(seen.headers[h]).toBeUndefined();
    expect(seen.headers['user-agent']).toBe('Mozilla/5.0');
    expect(JSON.parse(seen.bodyBytes.toString())).toEqual({ device: { os: 'android' }, contacts: ['carol@example.org'], keep: 1 });
    expect(Number(seen.headers['content-length'])).toBe(seen.bodyBytes.length);
    const f = await lw.flow('api.test', '/v1/profile');
    expect(f).toMatchObject({ verdict: 'strip', rule: 'test.api.profile' });
    const d = await lw.dash.flow(f.id);
    expect(JSON.stringify(d.notes)).toMatch(/stripped headers .*referer/);
  });

  it('strip with a gzip request body (curl --data-binary): re-encoded gzip, correct Content-Length', async () => {
    const gz = gzipSync(Buffer.from(JSON.stringify({ initial_device_display_name: 'Phone', keep: true })));
    const file = `${lw.dir}/body.gz`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, gz);
    const r = await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-H', 'Content-Encoding: gzip', '--data-binary', `@${file}`, 'http://api.test/v1/profile']);
    expect(r.status).toBe(200);
    const seen = arrived('api.test', '/v1/profile').at(-1)!;
    expect(seen.headers['content-encoding']).toBe('gzip');
    expect(Number(seen.headers['content-length'])).toBe(seen.bodyBytes.length);
    const { gunzipSync } = await import('node:zlib');
    expect(JSON.parse(gunzipSync(seen.bodyBytes).toString())).toEqual({ keep: true });
  });

  it('strip per WebSocket message (ws client): the field never reaches the server; each message recorded', async () => {
    const ws = new WebSocket('ws://ws.test/socket', { createConnection: absoluteFormConnection(port, 'http://ws.test') } as never);
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    ws.send(JSON.stringify({ type: 'hello', secret: 'hunter2', keep: 1 }));
    expect(await reply).toBe('echo:{"type":"hello","keep":1}');
    ws.close();
    const flows = (await lw.dash.waitFor((fs) => fs.filter((f) => f.host === 'ws.test').length >= 2, 3000)).filter((f) => f.host === 'ws.test');
    const details = await Promise.all(flows.map((f) => lw.dash.flow(f.id)));
    const sentDetail = details.find((d) => (d.flow as unknown as { direction: string }).direction === 'send')!;
    expect(JSON.stringify(sentDetail.notes)).toContain('stripped 1 value from this message');
    const sent = sentDetail.flow;
    expect(sent).toMatchObject({ verdict: 'strip', rule: 'test.ws.chat' });
  });

  it('block of a WebSocket host: the upgrade is refused, the origin sees no connection', async () => {
    const ws = new WebSocket('ws://wsblock.test/socket', { createConnection: absoluteFormConnection(port, 'http://wsblock.test') } as never);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
    expect(status).toBe(403);
    expect(origin.seen.filter((s) => s.method === 'WS' && s.rawHeaders.includes('wsblock.test'))).toHaveLength(0);
  });

  it('hold (API): nothing goes upstream until allowed; a second hold times out into deny', async () => {
    const pending = httpViaProxy(port, 'http://hold.test/register?user=@alice:example.org');
    let holds: Array<{ id: number; ruleId: string; why: string; findings: Array<{ kind: string; value: string }> }> = [];
    for (let i = 0; i < 100 && holds.length === 0; i++) {
      holds = ((await lw.api('GET', '/api/holds')).json as { holds: typeof holds }).holds;
      if (holds.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(holds).toHaveLength(1);
    expect(holds[0]).toMatchObject({ ruleId: 'test.hold.ask', why: expect.stringContaining('Hold-and-ask') });
    expect(holds[0]!.findings).toEqual([expect.objectContaining({ kind: 'mxid', value: '@alice:example.org' })]);
    expect(arrived('hold.test', '/register')).toHaveLength(0);
    expect((await lw.api('POST', `/api/holds/${holds[0]!.id}`, { decision: 'allow', scope: 'once' })).status).toBe(200);
    const r = await pending;
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body.toString()) as Echo).url).toBe('/register?user=@alice:example.org');
    expect(await lw.flow('hold.test', '/register')).toMatchObject({ verdict: 'hold', rule: 'test.hold.ask' });

    const t0 = Date.now();
    const denied = await httpViaProxy(port, 'http://hold.test/second');
    expect(denied.status).toBe(403);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(arrived('hold.test', '/second')).toHaveLength(0);
    expect((await lw.api('POST', `/api/holds/999`, { decision: 'allow', scope: 'once' })).status).toBe(404);
  });
});

describe('exports', () => {
  it('jsonl and csv carry each enforcement as the verdict, with the rule that caused it', async () => {
    const { exportCommand } = await import('../../cli/export.js');
    const { PassThrough } = await import('node:stream');
    const run1 = async (format: string): Promise<string> => {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      await exportCommand({ dataDir: lw.running.config.dataDir, format, out } as never);
      return Buffer.concat(chunks).toString('utf8');
    };
    const rows = (await run1('jsonl')).trim().split('\n').map((l) => JSON.parse(l) as { verdict: string; rule: string | null });
    const pairs = new Set(rows.map((r) => `${r.verdict} ${r.rule}`));
    for (const p of ['block test.tracker.collect', 'block block:blocked.test/secret', 'neutralize test.lookup.neutral', 'strip test.api.profile', 'hold test.hold.ask', 'strip test.ws.chat']) {
      expect(pairs, p).toContain(p);
    }
    expect(await run1('csv')).toMatch(/,block:blocked\.test\/secret,[^,]*,block/);
  });
});

describe('overrides through the API apply live and are removable', () => {
  it('block a host, list, remove; change a rule action; allow a client', async () => {
    expect((await curl(['http://free.test/a'])).status).toBe(200);
    const add = await lw.api('POST', '/api/overrides', { kind: 'block', host: 'free.test' });
    expect(add.status).toBe(201);
    const id = (add.json as { override: { id: string } }).override.id;
    expect((await curl(['http://free.test/b'])).status).toBe(403);
    expect(arrived('free.test', '/b')).toHaveLength(0);
    const list = (await lw.api('GET', '/api/overrides')).json as { overrides: Array<{ id: string; source: string; summary: string }> };
    expect(list.overrides.map((o) => o.summary)).toEqual(expect.arrayContaining(['block free.test', 'block blocked.test/secret', 'test.api.matrix: block']));
    expect(list.overrides.find((o) => o.id === 'cli-1')?.source).toBe('cli');
    expect((await lw.api('DELETE', '/api/overrides/cli-1')).status).toBe(409);
    expect((await lw.api('DELETE', `/api/overrides/${id}`)).status).toBe(204);
    expect((await lw.api('DELETE', `/api/overrides/${id}`)).status).toBe(404);
    expect((await curl(['http://free.test/c'])).status).toBe(200);

    // Rule action: the tracker rule to log, then back.
    const ra = await lw.api('POST', '/api/overrides', { kind: 'rule-action', ruleId: 'test.tracker.collect', action: 'log' });
    expect(ra.status).toBe(201);
    expect((await curl(['http://tracker.test/collect?uid=9'])).status).toBe(200);
    const rules = (await lw.api('GET', '/api/rules')).json as { rules: Array<{ id: string; action: string; packAction?: string }> };
    expect(rules.rules.find((r) => r.id === 'test.tracker.collect')).toMatchObject({ action: 'log', packAction: 'block' });
    await lw.api('DELETE', `/api/overrides/${(ra.json as { override: { id: string } }).override.id}`);
    expect((await curl(['http://tracker.test/collect?uid=10'])).status).toBe(204);

    // Allowed client: 127.0.0.1 is exempt.
    const ac = await lw.api('POST', '/api/overrides', { kind: 'allow-client', client: '127.0.0.1' });
    expect((await curl(['http://tracker.test/collect?uid=11'])).status).toBe(200);
    expect(await lw.flow('tracker.test', '/collect?uid=11')).toMatchObject({ verdict: 'allow', rule: 'test.tracker.collect' });
    await lw.api('DELETE', `/api/overrides/${(ac.json as { override: { id: string } }).override.id}`);
    expect((await curl(['http://tracker.test/collect?uid=12'])).status).toBe(204);
  });

  it('validates input and refuses unknown rules, cross-origin writes and missing tokens', async () => {
    expect((await lw.api('POST', '/api/overrides', { kind: 'rule-action', ruleId: 'no.such.rule', action: 'block' })).json).toEqual({ error: 'ruleId: no rule "no.such.rule" in the loaded packs' });
    expect((await lw.api('POST', '/api/overrides', { kind: 'rule-action', ruleId: 'test.tracker.collect', action: 'explode' })).status).toBe(400);
    expect((await lw.api('POST', '/api/overrides', { kind: 'block', host: 'https://x.test/' })).status).toBe(400);
    expect((await lw.api('POST', '/api/holds/1', { decision: 'maybe', scope: 'once' })).status).toBe(400);
    const evil = await fetch(`${lw.running.dashboardUrl}/api/overrides`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/json', cookie: `leakwatch_token_${new URL(lw.running.dashboardUrl).port}=${lw.running.token}` },
      body: JSON.stringify({ kind: 'block', host: 'x.test' }),
    });
    expect(evil.status).toBe(403);
    const anon = await fetch(`${lw.running.dashboardUrl}/api/overrides`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anon.status).toBe(403);
    const overrides = ((await lw.api('GET', '/api/overrides')).json as { overrides: Array<{ host: string | null }> }).overrides;
    expect(overrides.some((o) => o.host === 'x.test')).toBe(false);
  });

  it('saved overrides survive a restart (SQLite)', async () => {
    await lw.api('POST', '/api/overrides', { kind: 'block', host: 'free.test', path: '/persist' });
    const { running } = lw;
    const cfg = running.config;
    await running.close(200);
    const { startLeakwatch } = await import('../../cli/start.js');
    const { silentLogger } = await import('../../core/log.js');
    const again = await startLeakwatch(cfg, silentLogger);
    try {
      const p = Number(new URL(again.proxyUrl).port);
      expect((await httpViaProxy(p, 'http://free.test/persist/x')).status).toBe(403);
      expect((await httpViaProxy(p, 'http://free.test/other')).status).toBe(200);
    } finally {
      await again.close(200);
    }
  });
});

