/**
 * The decoders in the field: the real proxy (startLeakwatch) between an undici client and stand-ins
 * for PostHog, Sentry and rageshake (reached through --resolve on loopback). The bodies are built as
 * the client libraries build them (posthog-js 1.157.2 lib/src/request.js gzip-js and base64 `data=`,
 * @sentry/browser 8 envelopes, matrix-react-sdk 3.114.0 src/rageshake/submit-rageshake.ts); the
 * findings, with their decoding chain, must reach the dashboard API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { FormData } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dashboardClient, proxiedFetch, type ProxiedFetch } from '../helpers/matrix-e2e.js';
import { standInPki, startStandIn, type StandIn } from '../helpers/matrix-standins.js';

const HOSTS = ['posthog.element.io', 'sentry.tools.element.io', 'rageshakes.element.io'];
const DISTINCT = '6f0e1d2c3b4a59687766554433221100';
const event = (id: string) => ({ event: '$pageview', properties: { distinct_id: id, $device_id: '01938a2e-1111-7aaa-9bbb-2c3d4e5f6a7b', title: 'Element | Lab notes' } });

let dir: string;
let standIns: StandIn[] = [];
let running: Running | undefined;
let client: ProxiedFetch | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-decoders-live-'));
  const pki = await standInPki();
  standIns = await Promise.all(HOSTS.map((h) => startStandIn(h, pki, () => ({ status: 200, json: { status: 1 } }))));
  running = await startLeakwatch(
    validateStartFlags({ port: '0', dashboardPort: '0', dataDir: join(dir, 'leakwatch'), resolve: standIns.map((s) => s.resolveSpec), upstreamCa: [pki.caFile] }),
    silentLogger,
  );
  client = proxiedFetch(running.proxyUrl, readFileSync(running.caPath, 'utf8'));
});

afterAll(async () => {
  await client?.close();
  await running?.close();
  await Promise.all(standIns.map((s) => s.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function leaksOf(host: string, path: string) {
  const dash = dashboardClient(running!.dashboardUrl, running!.token);
  const is = (f: { host: string; url: string }) => f.host === host && new URL(f.url).pathname === path;
  const flows = await dash.waitFor((l) => l.some(is), 5000);
  const row = flows.find(is);
  expect(row, `no flow for ${host}${path}`).toBeDefined();
  return { row: row!, leaks: (await dash.flow(row!.id)).flow.leaks };
}

describe('decoders through the live proxy', () => {
  it('PostHog gzip-js (text/plain, no Content-Encoding) and base64 data= are read', async () => {
    const f = client!.fetch;
    const gz = zlib.gzipSync(JSON.stringify([event(DISTINCT)]));
    expect((await f('https://posthog.element.io/e/?compression=gzip-js&ip=1', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: gz })).status).toBe(200);
    const data = Buffer.from(JSON.stringify(event('77aa66bb55cc44dd33ee22ff11009988'))).toString('base64');
    const form = `data=${encodeURIComponent(data)}`;
    expect((await f('https://posthog.element.io/i/v0/e/?ip=1', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form })).status).toBe(200);
    // the stand-in got exactly what the client sent: leakwatch decoded a copy, not the traffic
    expect(standIns[0]!.find('POST', '/e/')[0]!.body.equals(gz)).toBe(true);

    const a = await leaksOf('posthog.element.io', '/e/');
    expect(a.row.category).toBe('analytics');
    expect(a.leaks).toContainEqual(expect.objectContaining({ kind: 'tracking_id', value: DISTINCT, where: 'request.body[0].properties.distinct_id' }));
    expect(a.leaks).toContainEqual(expect.objectContaining({ kind: 'room_name', value: 'Element | Lab notes' }));
    const b = await leaksOf('posthog.element.io', '/i/v0/e/');
    expect(b.leaks).toContainEqual(expect.objectContaining({ kind: 'tracking_id', value: '77aa66bb55cc44dd33ee22ff11009988', where: 'request.form.data|base64|json.properties.distinct_id' }));
  });

  it('a Sentry envelope and a rageshake with a gzipped log are read', async () => {
    const f = client!.fetch;
    const envelope = [{ event_id: 'x' }, { type: 'event' }, { user: { username: '@dana:home.example' }, contexts: { device: { device_id: 'ZXCVBNMLKJ' } } }].map((l) => JSON.stringify(l)).join('\n');
    await f('https://sentry.tools.element.io/api/7/envelope/?sentry_key=k&sentry_version=7', { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: envelope });
    const body = new FormData();
    body.append('text', 'cannot join');
    body.append('user_id', '@dana:home.example');
    body.append('compressed-log', new Blob([zlib.gzipSync('I joined !QvHbTnOuwKcYzlPsEa:home.example\n')]), 'logs-0000.log.gz');
    await f('https://rageshakes.element.io/api/submit', { method: 'POST', body: body as never });

    const s = await leaksOf('sentry.tools.element.io', '/api/7/envelope/');
    expect(s.leaks).toContainEqual(expect.objectContaining({ kind: 'mxid', value: '@dana:home.example', where: 'request.body|ndjson[2].user.username', method: 'structural' }));
    expect(s.leaks).toContainEqual(expect.objectContaining({ kind: 'device_id', value: 'ZXCVBNMLKJ' }));
    const r = await leaksOf('rageshakes.element.io', '/api/submit');
    expect(r.leaks).toContainEqual(expect.objectContaining({ kind: 'room_id', value: '!QvHbTnOuwKcYzlPsEa:home.example', where: 'request.multipart.compressed-log' }));
  });
});
