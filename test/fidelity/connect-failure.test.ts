/**
 * CONNECT to an origin that cannot be reached is refused with the CONNECT's own status (502, or 403
 * for a forbidden target), never "200 Connection Established" followed by a 502 inside the tunnel:
 * browsers then show ERR_TUNNEL_CONNECTION_FAILED and curl/undici report the proxy's status. The
 * origin is dialled once per tunnel: the pre-dial's socket carries the first request.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { Socket } from 'node:net';
import { chromium } from 'playwright-core';
import { ProxyAgent, request as undiciRequest } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectAgent, openTunnel, request } from '../helpers/connect-client.js';
import { curl } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { closedPort } from '../helpers/raw-origin.js';
import { testPki } from '../helpers/tls-fixtures.js';

/** A name /etc/hosts maps to loopback (the machine's own name, as most systems list it). */
function loopbackNameFromHosts(): string {
  for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    const name = names.find((n) => n !== 'localhost' && !n.endsWith('.localhost') && !n.includes('localhost'));
    if (address?.startsWith('127.') && name) return name;
  }
  throw new Error('/etc/hosts maps no name other than localhost to loopback');
}

let good: Origin;
let proxy: TestProxy;
const connections: Socket[] = [];

beforeAll(async () => {
  const pki = await testPki('origin');
  good = await startOrigin({ tls: pki.leaf('good.test'), routes: { '*': (_q, r) => r.end('fine') } });
  good.server.on('connection', (s: Socket) => connections.push(s));
  // Names outside the routes go to a resolver that does not exist (loopback port 9): whatever
  // Chromium tries on its own dies at the proxy and nothing leaves loopback.
  proxy = await startTestProxy({ routes: { 'good.test': good.port, 'dead.test': await closedPort() }, upstreamDns: { host: '127.0.0.1', port: 9 } });
});

afterAll(async () => {
  await proxy?.close();
  await good?.close();
});

it('curl -p -x: a refused origin refuses the CONNECT with 502 (no 200 first)', async () => {
  const r = await curl(['-p', '-x', `http://127.0.0.1:${proxy.port}`, '--cacert', proxy.caPath, '-D', '-', 'https://dead.test/'], 10_000);
  expect(r.code).toBe(56);
  expect(r.stderr).toMatch(/CONNECT tunnel failed, response 502/);
  expect(r.stdout.toString('latin1')).not.toMatch(/200 Connection Established/i);
  const ex = await proxy.waitFor((e) => e.request.host === 'dead.test' && e.request.method === 'CONNECT');
  expect(ex.response?.status).toBe(502);
  expect(ex.error?.code).toBe('LW_UPSTREAM_REFUSED');
});

it('undici ProxyAgent: the tunnel fails with the proxy\'s 502', async () => {
  const dispatcher = new ProxyAgent({ uri: `http://127.0.0.1:${proxy.port}`, requestTls: { ca: proxy.caPem } });
  try {
    // Before the fix the tunnel opened and this resolved with a 502 response from inside it.
    const err = await undiciRequest('https://dead.test/', { dispatcher }).then(
      (r) => new Error(`answered ${r.statusCode}`),
      (e: unknown) => e as Error,
    );
    expect(err.message).toBe('Proxy response (502) !== 200 when HTTP Tunneling');
  } finally {
    await dispatcher.close();
  }
});

it.each(['169.254.169.254', 'metadata.google.internal'])('a forbidden target (%s) still gets 403 LW_TARGET_FORBIDDEN', async (host) => {
  const t = await openTunnel(proxy.port, `${host}:80`);
  expect(t.status).toBe(403);
  t.socket.destroy();
  const ex = await proxy.waitFor((e) => e.request.method === 'CONNECT' && e.request.host === host);
  expect(ex.error?.code).toBe('LW_TARGET_FORBIDDEN');
});

it('a name that resolves to a forbidden address is refused with 403 once resolved', async () => {
  const strict = await startTestProxy({ allowUpstream: [] });
  try {
    // A plain name (not on the forbidden-name list) that only the resolver turns into loopback.
    const name = loopbackNameFromHosts();
    const t = await openTunnel(strict.port, `${name}:443`).catch(() => undefined);
    if (t) t.socket.destroy();
    const ex = await strict.waitFor((e) => e.request.method === 'CONNECT');
    expect([t?.status, ex.error?.code]).toEqual([403, 'LW_TARGET_FORBIDDEN']);
  } finally {
    await strict.close();
  }
});

it('Chromium shows ERR_TUNNEL_CONNECTION_FAILED (not a 502 page from inside the tunnel)', { timeout: 60_000 }, async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--proxy-server=http://127.0.0.1:${proxy.port}`],
  });
  try {
    const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
    const err = await page.goto('https://dead.test/').then(
      (r) => new Error(`loaded with status ${r?.status()}`),
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/net::ERR_TUNNEL_CONNECTION_FAILED/);
  } finally {
    await browser.close();
  }
});

it('a reachable origin is dialled once per tunnel: the pre-dialled socket carries the first request', async () => {
  const before = connections.length;
  const agent = new ConnectAgent(proxy.port, { ca: proxy.caPem, keepAlive: false });
  try {
    const r = await request(https, { host: 'good.test', port: 443, path: '/', agent });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('fine');
    expect(connections.length - before).toBe(1);
  } finally {
    agent.destroy();
  }
});
