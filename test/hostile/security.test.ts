/**
 * Security against the real process: the dashboard and API refuse requests without the token; a
 * cross-origin WebSocket and a rebinding Host header are refused; no route serves the CA key or
 * the token; captured XSS payloads come back inert (JSON, nosniff, strict CSP); a proxy bound to
 * 0.0.0.0 refuses clients outside --allow-client and records them; leakwatch never proxies to its
 * own dashboard or proxy ports, whatever the name, form or protocol.
 * (test/dashboard/ covers the same checks in-process and the XSS corpus in Chromium.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { httpViaProxy, openTunnel, request } from '../helpers/connect-client.js';
import { absoluteFormConnection } from '../helpers/ws-client.js';
import { openDb, spawnLeakwatch, startStandins, until, type Leakwatch, type Standins } from './harness.js';

let lw: Leakwatch;
let origins: Standins;
let proxyPort: number;
let dashPort: number;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

beforeAll(async () => {
  origins = await startStandins({
    '/xss': (_q, r) => {
      r.writeHead(200, { 'content-type': 'text/html' });
      r.end('<script>window.pwned=1</script><img src=x onerror=alert(1)>');
    },
  });
  proxyPort = await freePort();
  dashPort = await freePort();
  // Names that point at our own ports: through --resolve, and the machine's own name (/etc/hosts).
  // Fixed ports (later flags win over the harness's --port 0) so --resolve can name them.
  lw = await spawnLeakwatch({
    args: [
      '--port', String(proxyPort), '--dashboard-port', String(dashPort),
      ...origins.args,
      '--store-bodies', 'all',
      '--resolve', `selfdash.test=127.0.0.1:${dashPort}`,
      '--resolve', `selfproxy.test=127.0.0.1:${proxyPort}`,
      '--resolve', 'selfdash-name.test=127.0.0.1',
    ],
  });
  expect(lw.proxyPort).toBe(proxyPort);
  expect(lw.dashboardPort).toBe(dashPort);
}, 60_000);

afterAll(async () => {
  const code = await lw?.stop();
  await origins?.close();
  expect(code).toBe(0);
});

const dash = (path: string, headers: Record<string, string> = {}) =>
  request(http, { host: '127.0.0.1', port: dashPort, path, agent: false, headers });

describe('dashboard access', () => {
  it.each(['/api/flows', '/api/flows/1', '/api/summary', '/api/timeline', '/api/sessions', '/api/rules', '/api/health', '/metrics'])('%s without the token is refused', async (path) => {
    const r = await dash(path);
    expect([401, 403]).toContain(r.status);
    expect(r.body.toString()).not.toMatch(/"flows"|leakwatch_/);
    const wrong = await dash(path, { authorization: `Bearer ${'A'.repeat(lw.token.length)}` });
    expect([401, 403]).toContain(wrong.status);
  });

  it('with the token the same routes answer', async () => {
    expect((await dash('/api/health', { authorization: `Bearer ${lw.token}` })).status).toBe(200);
  });

  it('a rebinding Host header is refused even with the token', async () => {
    for (const host of ['evil.test', `evil.test:${dashPort}`, `127.0.0.1.evil.test:${dashPort}`, `${hostname()}.evil:${dashPort}`]) {
      const r = await dash('/api/health', { host, authorization: `Bearer ${lw.token}` });
      expect(r.status, host).toBeGreaterThanOrEqual(400);
      expect(r.body.toString()).not.toMatch(/uptime/i);
    }
  });

  it('a cross-origin WebSocket is refused, even with the token', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${dashPort}/api/stream?token=${lw.token}`, {
        headers: { origin: 'http://evil.test', authorization: `Bearer ${lw.token}` },
      });
      ws.once('open', () => {
        ws.terminate();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => resolve(`status ${res.statusCode}`));
      ws.once('error', (e) => resolve(`error ${e.message}`));
    });
    expect(outcome).not.toBe('open');
  });

  it('no route serves the CA key, the token or the database', async () => {
    const key = readFileSync(join(lw.dataDir, 'ca', readFileSyncKeyName(lw.dataDir)), 'utf8');
    const keyBody = key.split('\n').filter((l) => l && !l.startsWith('-----'))[1]!;
    const paths = [
      '/ca/leakwatch-ca.key', '/ca/ca.key', '/ca.key', '/leakwatch-ca.key', '/dashboard-token', '/leakwatch.db', '/redact.key',
      '/../ca/leakwatch-ca.key', '/%2e%2e/ca/leakwatch-ca.key', '/static/..%2f..%2fdashboard-token', '/ca/..%2fdashboard-token',
      '/.http-mitm-proxy-unused/keys/ca.private.key', '/setup/ca.key', '/ca.pem?file=../ca/leakwatch-ca.key', '//etc/passwd',
      '/public/../../dashboard-token', '/api/../dashboard-token', '/%2fdashboard-token',
    ];
    for (const path of paths) {
      for (const auth of [{}, { authorization: `Bearer ${lw.token}` }]) {
        const r = await dash(path, auth);
        const text = r.body.toString();
        expect(text, path).not.toContain(keyBody);
        expect(text, path).not.toMatch(/PRIVATE KEY/);
        expect(text, path).not.toContain(lw.token);
        expect(text.startsWith('SQLite format'), path).toBe(false);
      }
    }
  });

  it('a captured XSS payload comes back as inert JSON; pages carry a strict CSP', async () => {
    const r = await httpViaProxy(lw.proxyPort, 'http://plain.test/xss?q=<script>alert(1)</script>', { headers: { 'x-evil': '"><svg onload=alert(1)>' } });
    expect(r.status).toBe(200);
    const list = await until(async () => (await lw.api<{ flows: Array<{ id: number; url: string }> }>('/api/flows?host=plain.test')).flows.find((f) => f.url.includes('/xss')), 5000, 'the xss flow');
    for (const path of ['/api/flows?host=plain.test', `/api/flows/${list.id}`]) {
      const d = await dash(path, { authorization: `Bearer ${lw.token}` });
      expect(d.headers['content-type']).toMatch(/^application\/json/);
      expect(d.headers['x-content-type-options']).toBe('nosniff');
      expect(d.body.toString()).toContain('"');
    }
    const page = await dash('/', { authorization: `Bearer ${lw.token}` });
    const csp = String(page.headers['content-security-policy'] ?? '');
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline[^;]*;?\s*$|script-src[^;]*unsafe-inline|unsafe-eval/);
  });
});

function readFileSyncKeyName(dataDir: string): string {
  return readdirSync(join(dataDir, 'ca')).find((f) => /key/.test(f))!;
}

describe('never proxies to itself', () => {
  const targets = (): Array<[string, number]> => [
    ['127.0.0.1', dashPort], ['127.0.0.1', proxyPort], ['localhost', dashPort], ['localhost', proxyPort], ['127.0.0.5', dashPort],
    ['[::ffff:127.0.0.1]', dashPort], ['0.0.0.0', dashPort], ['192.0.2.2', dashPort], [hostname(), dashPort], [hostname(), proxyPort],
    ['selfdash.test', 80], ['selfproxy.test', 80], ['selfdash-name.test', dashPort],
  ];

  it('absolute-form HTTP to our own ports gets 508, for every name that reaches them', async () => {
    for (const [host, port] of targets()) {
      const r = await httpViaProxy(lw.proxyPort, `http://${host}:${port}/api/health`, { headers: { authorization: `Bearer ${lw.token}` } }).catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }));
      // The machine's own name resolves (/etc/hosts) to loopback, which the upstream policy
      // refuses at lookup time (403 LW_TARGET_FORBIDDEN), or to a LAN address of ours (508).
      if (host === hostname()) expect([403, 508], `${host}:${port}`).toContain(r.status);
      else expect(r.status, `${host}:${port}`).toBe(508);
      expect(r.body.toString()).not.toMatch(/uptime/i);
    }
    await lw.stillServes();
  });

  it('CONNECT to our own ports gets 508 or 403 (dialled before the 200: a loop, or a loopback target), or an intercepted request that is refused', async () => {
    for (const [host, port] of targets()) {
      const t = await openTunnel(lw.proxyPort, `${host}:${port === 80 ? 443 : port}`).catch(() => undefined);
      if (!t) continue;
      t.socket.destroy();
      if (t.status === 200) {
        // Only names checked after the dial (resolve and /etc/hosts) may get this far; the inner
        // request then must fail with 508 rather than reach the dashboard.
        expect(host, `${host}:${port} tunnel opened`).toMatch(/\.test$|^vm$|^runsc$/);
      } else expect([403, 508], `${host}:${port} got ${t.status}`).toContain(t.status);
    }
    await lw.stillServes();
  });

  it('a plain-HTTP request inside a CONNECT tunnel to the dashboard by name is refused', async () => {
    const t = await openTunnel(lw.proxyPort, `${hostname()}:${dashPort}`);
    if (t.status === 200) {
      t.socket.resume();
      t.socket.write(`GET /api/health HTTP/1.1\r\nHost: ${hostname()}:${dashPort}\r\nAuthorization: Bearer ${lw.token}\r\nConnection: close\r\n\r\n`);
      const reply = await new Promise<string>((resolve) => {
        let got = '';
        t.socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
        t.socket.on('close', () => resolve(got));
      });
      // 403 LW_TARGET_FORBIDDEN when the name resolves to loopback, 508 LW_LOOP to a LAN address of ours.
      expect(reply).toMatch(/^HTTP\/1\.1 (?:508|403)/);
      expect(reply).not.toMatch(/uptime/i);
    } else expect([403, 508]).toContain(t.status); // the origin is dialled before the 200 now
  });

  it('WebSocket (absolute-form ws://) to our own ports is refused, for every name', async () => {
    for (const [host, port] of targets()) {
      const outcome = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${host}:${port}/api/stream`, { createConnection: absoluteFormConnection(lw.proxyPort, `http://${host}:${port}`) as never });
        // The proxy dials upstream before it answers; a refused upstream is an HTTP status.
        // Staying open means the upstream (our own dashboard) accepted it. 403: the target is a
        // loopback address (refused before the loop check); 508: a loop through a name we answer.
        ws.once('open', () => setTimeout(() => {
          ws.terminate();
          resolve('stayed open');
        }, 1500));
        ws.once('unexpected-response', (_req, res) => resolve(`status ${res.statusCode}`));
        ws.once('error', (e) => resolve(`error ${e.message}`));
        ws.once('close', (code) => resolve(`close ${code}`));
      });
      // 403 (LW_TARGET_FORBIDDEN) when the name resolves to loopback, 508 (LW_LOOP) to a LAN address of ours.
      expect(outcome, `${host}:${port}`).toMatch(/^status (?:508|403)$|^close 1014$/);
    }
    await lw.stillServes();
  });
});

describe('LAN-facing bind with --allow-client', () => {
  it('binds 0.0.0.0, refuses 127.0.0.1 (outside 10.255.255.0/24), and counts it without recording it', async () => {
    const lan = await spawnLeakwatch({ args: [...origins.args, '--host', '0.0.0.0', '--allow-client', '10.255.255.0/24'] });
    try {
      const r = await httpViaProxy(lan.proxyPort, 'http://plain.test/hello');
      expect(r.status).toBe(403);
      expect(r.headers['x-leakwatch-error']).toBe('LW_CLIENT_DENIED');
      const t = await openTunnel(lan.proxyPort, 'good.test:443');
      t.socket.destroy();
      expect(t.status).toBe(403);
      const ws = await new Promise<string>((resolve) => {
        const c = new WebSocket('ws://plain.test/ws', { createConnection: absoluteFormConnection(lan.proxyPort, 'http://plain.test') as never });
        c.once('open', () => resolve('open'));
        c.once('unexpected-response', (_q, res) => resolve(`status ${res.statusCode}`));
        c.once('error', (e) => resolve(e.message));
      });
      expect(ws).toBe('status 403');
      expect(origins.plain.seen.filter((s) => s.url === '/ws').length).toBe(0);
      const health = await lan.api<{ listeners: { refusedClients: Record<string, number> } }>('/api/health');
      expect(health.listeners.refusedClients['proxy']).toBe(3);
      const code = await lan.stop();
      expect(code).toBe(0);
      const db = openDb(lan.dataDir);
      try {
        const denied = db.prepare("SELECT count(*) FROM exchanges e JOIN errors_by_id x ON x.id = e.error_id WHERE x.name = 'LW_CLIENT_DENIED'").pluck().get() as number;
        expect(denied).toBe(0);
      } finally {
        db.close();
      }
    } finally {
      await lan.stop();
    }
  });
});
