/**
 * `--redact` end to end: real traffic through the real proxy (undici over the proxy port) to a local
 * origin, then a byte scan of leakwatch.db, its WAL and shm, and of every live stream frame, for
 * every spelling of the leaked and declared values: case, percent-encoding in any hex case, phone
 * numbers in any grouping (also one the free-text phone parser does not take).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dbPath } from '../../store/db.js';
import { dashboardClient } from '../helpers/matrix-e2e.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

const HOST = 'posthog.element.io';
const IS = 'id.example.test';
const EMAIL = 'alice.liddell@example.org';
const FR = '+33612345678';
const UK = '+447700900123';

/** Lower-cased, separators removed: what every spelling of a value comes down to. */
const SPELLINGS = [
  EMAIL, EMAIL.toUpperCase(), encodeURIComponent(EMAIL), encodeURIComponent(EMAIL).replace('%40', '%40'.toLowerCase()),
  'alice.liddell%2540example.org', 'alice.liddell\\u0040example.org',
  FR, '+33 6 12 34 56 78', '+33-6-12-34-56-78', '06 12 34 56 78', '%2B33%206%2012%2034%2056%2078',
  UK, '+44 7700 900123', '+44-7700-900123', '%2b44%207700%20900123',
];
const DIGIT_RUNS = ['612345678', '7700900123'];
// A value inside an encoding (posthog-js's `data=<base64(JSON)>`): the base64 text never spells
// the value, so the whole field must go.
const B64 = Buffer.from(JSON.stringify({ event: '$pageview', properties: { $email: EMAIL, distinct_id: 'c0ffee-1234' } })).toString('base64');
SPELLINGS.push(B64, encodeURIComponent(B64), B64.slice(8, 40));

function scanText(text: string): string[] {
  const lower = text.toLowerCase();
  const hits = SPELLINGS.filter((s) => lower.includes(s.toLowerCase()));
  // Digits in any grouping: drop the usual separators and look for the national numbers.
  const squeezed = lower.replace(/(?:%(?:25)?(?:20|2d|2b|28|29)|[\s.\-+()/])/g, '');
  for (const d of DIGIT_RUNS) if (squeezed.includes(d)) hits.push(`digits ${d}`);
  return hits;
}

let dir: string;
let origin: Origin;
let lw: Running | undefined;
const frames: string[] = [];
let holdsJson = '';
let ws: WebSocket | undefined;

function dbFilesText(dataDir: string): string {
  const file = dbPath(dataDir);
  return [file, `${file}-wal`, `${file}-shm`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-redact-'));
  origin = await startOrigin({ routes: { '*': (_req, res) => res.end('{"ok":true}') } });
  lw = await startLeakwatch(validateStartFlags({
    port: '0', dashboardPort: '0', dataDir: join(dir, 'data'), redact: true, storeBodies: 'all',
    mode: 'enforce', action: ['element.analytics.posthog=hold'], holdTimeout: '20',
    resolve: [`${HOST}=127.0.0.1:${origin.port}`, `${IS}=127.0.0.1:${origin.port}`], identity: [`email=${EMAIL}`, `phone=${UK}`],
  }), silentLogger);
  const dashPort = new URL(lw.dashboardUrl).port;
  ws = new WebSocket(`ws://127.0.0.1:${dashPort}/api/stream`, { headers: { authorization: `Bearer ${lw.token}` } });
  ws.on('message', (m) => frames.push(String(m)));
  await new Promise((resolve, reject) => (ws!.once('open', resolve), ws!.once('error', reject)));

  const agent = new ProxyAgent({ uri: lw.proxyUrl });
  const send = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: string; host?: string } = {}): Promise<void> => {
    const r = await request(`http://${init.host ?? HOST}${path}`, { dispatcher: agent, method: (init.method ?? 'GET') as 'GET', headers: init.headers ?? {}, body: init.body ?? null });
    await r.body.text();
  };
  await send(`/_matrix/identity/api/v1/lookup?medium=email&address=${EMAIL.toUpperCase()}`, { host: IS });
  await send(`/_matrix/identity/api/v1/lookup?medium=msisdn&address=%2B33%206%2012%2034%2056%2078`, { host: IS });
  await send(`/collect?email=${EMAIL.toUpperCase()}&tel=%2B33%206%2012%2034%2056%2078`);
  await send(`/collect?e=${encodeURIComponent(EMAIL).toLowerCase()}&tel=+33-6-12-34-56-78`, { headers: { 'x-user': 'Alice.Liddell@Example.ORG', referer: `https://app.test/#/u/${EMAIL}` } });
  await send('/track', { method: 'POST', headers: { 'content-type': 'application/json', 'x-phone': '+44 7700 900123' }, body: JSON.stringify({ phone: '+33 6 12 34 56 78', mail: EMAIL }) });
  await send(`/e/?ver=1.93.0&data=${encodeURIComponent(B64)}`);
  await send('/plain?x=1', { headers: { 'x-contact': '+44-7700-900123', 'x-mail': 'alice.liddell%2540example.org' } });
  // A held request: the dashboard's hold list and the stream's `hold` message see it redacted.
  const held = send(`/capture/?email=${EMAIL.toUpperCase()}&tel=%2B44%207700%20900123`);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${lw!.dashboardUrl}${path}`, { ...init, headers: { authorization: `Bearer ${lw!.token}`, 'content-type': 'application/json' } });
  for (let i = 0; i < 200 && holdsJson === ''; i++) {
    const body = await (await api('/api/holds')).text();
    if (body.includes('"id"')) holdsJson = body;
    else await new Promise((r) => setTimeout(r, 25));
  }
  const id = (JSON.parse(holdsJson) as { holds: Array<{ id: number }> }).holds[0]!.id;
  expect((await api(`/api/holds/${id}`, { method: 'POST', body: JSON.stringify({ decision: 'deny', scope: 'once' }) })).status).toBe(200);
  await held;
  await agent.close();
  await dashboardClient(lw.dashboardUrl, lw.token).waitFor((l) => l.length >= 8, 5000);
  // The hub batches every 100 ms: wait until the stream carried all four.
  for (let i = 0; i < 100 && frames.join('').split('"method"').length - 1 < 8; i++) await new Promise((r) => setTimeout(r, 25));
}, 30_000);

afterAll(async () => {
  ws?.terminate();
  await lw?.close();
  await origin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('--redact keeps every spelling out of the store and the stream', () => {
  it('the traffic was recorded, with masked previews', async () => {
    const flows = await dashboardClient(lw!.dashboardUrl, lw!.token).flows();
    expect(flows.length).toBeGreaterThanOrEqual(8);
    const dash = dashboardClient(lw!.dashboardUrl, lw!.token);
    const details = await Promise.all(flows.map((f) => dash.flow(f.id)));
    const values = details.flatMap((d) => d.flow.leaks.map((l) => l.value));
    expect(values).toContain('al***@ex***.org');
  });

  it('no spelling in the held request the dashboard lists', () => {
    expect(holdsJson).toContain('/capture/');
    expect(scanText(holdsJson)).toEqual([]);
  });

  it('no spelling in the live stream frames', () => {
    expect(frames.join('\n')).toContain('"type":"hold"');
    const text = frames.join('\n');
    expect(text).toContain('/collect');
    expect(scanText(text)).toEqual([]);
  });

  it('no spelling in leakwatch.db, -wal, -shm while running, nor after close', async () => {
    const dataDir = join(dir, 'data');
    const before = dbFilesText(dataDir);
    expect(before).toContain('[redacted]');
    expect(scanText(before)).toEqual([]);
    await lw!.close();
    lw = undefined;
    expect(scanText(dbFilesText(dataDir))).toEqual([]);
  });
});
