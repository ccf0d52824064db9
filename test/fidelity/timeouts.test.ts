/**
 * Upstream timeouts, with the engine's defaults: a long-poll held 35 s and an SSE stream quiet for
 * 35 s pass untouched (over CONNECT + TLS and plain HTTP), because only a long *idle* timeout runs
 * while the origin holds a request; an origin that accepts TCP but never completes TLS is given up
 * on after the short *connect* timeout, whatever the idle timeout.
 */
import type http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectAgent, httpViaProxy, request } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { startRawOrigin, type RawOrigin } from '../helpers/raw-origin.js';
import { testPki } from '../helpers/tls-fixtures.js';

const HOLD_MS = 35_000;

let secure: Origin;
let plain: Origin;
let silentTls: RawOrigin;
let proxy: TestProxy;
let shortConnect: TestProxy;
let agent: ConnectAgent;
const timers = new Set<NodeJS.Timeout>();

const later = (ms: number, fn: () => void): void => {
  const t = setTimeout(() => {
    timers.delete(t);
    fn();
  }, ms);
  timers.add(t);
};

const routes = {
  '/poll': (_req: http.IncomingMessage, res: http.ServerResponse) => later(HOLD_MS, () => res.end('{"next_batch":"s2"}')),
  '/sse': (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    later(HOLD_MS, () => res.end('data: two\n\n'));
  },
};

beforeAll(async () => {
  const pki = await testPki('origin');
  secure = await startOrigin({ tls: pki.leaf('hold.test'), routes });
  plain = await startOrigin({ routes });
  // Accepts TCP, never speaks: a TLS handshake with it never completes.
  silentTls = await startRawOrigin(() => undefined);
  proxy = await startTestProxy({ routes: { 'hold.test': secure.port, 'plain.test': plain.port } });
  shortConnect = await startTestProxy({ routes: { 'silent.test': silentTls.port }, connectTimeoutMs: 500, idleTimeoutMs: 60_000 });
  agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  agent?.destroy();
  await Promise.all([proxy?.close(), shortConnect?.close()]);
  await Promise.all([secure?.close(), plain?.close(), silentTls?.close()]);
});

/** One GET through the tunnel, resolving with when each body chunk arrived. */
function getTimed(path: string): Promise<{ status: number; chunks: Array<{ at: number; text: string }> }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = https.get({ host: 'hold.test', port: 443, path, agent }, (res) => {
      const chunks: Array<{ at: number; text: string }> = [];
      res.on('data', (c: Buffer) => chunks.push({ at: Date.now() - t0, text: c.toString() }));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, chunks }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
}

it.concurrent('long-poll held 35 s (HTTPS via CONNECT, and plain HTTP) is answered, not cut', { timeout: 60_000 }, async () => {
  const t0 = Date.now();
  const [tls, http1] = await Promise.all([getTimed('/poll'), httpViaProxy(proxy.port, `http://plain.test:${plain.port}/poll`)]);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(HOLD_MS - 100);
  expect(tls.status).toBe(200);
  expect(tls.chunks.map((c) => c.text).join('')).toBe('{"next_batch":"s2"}');
  expect(http1.status).toBe(200);
  expect(http1.body.toString()).toBe('{"next_batch":"s2"}');
  const ex = await proxy.waitFor((e) => e.request.host === 'hold.test' && e.request.path === '/poll');
  expect(ex.error).toBeUndefined();
  expect(ex.response?.status).toBe(200);
});

it.concurrent('SSE stream quiet for 35 s then continuing is relayed in real time, not cut', { timeout: 60_000 }, async () => {
  const r = await getTimed('/sse');
  expect(r.status).toBe(200);
  expect(r.chunks.map((c) => c.text).join('')).toBe('data: one\n\ndata: two\n\n');
  // The first event reached the client at once (streamed, not buffered until the end).
  expect(r.chunks[0]!.at).toBeLessThan(5_000);
  expect(r.chunks.at(-1)!.at).toBeGreaterThanOrEqual(HOLD_MS - 100);
  const ex = await proxy.waitFor((e) => e.request.path === '/sse');
  expect(ex.error).toBeUndefined();
});

it('an origin that never completes the connection gets 504 after the connect timeout, not the idle one', async () => {
  const a = new ConnectAgent(shortConnect.port, { ca: shortConnect.caPem });
  try {
    const t0 = Date.now();
    const r = await request(https, { host: 'silent.test', port: 443, path: '/', agent: a });
    expect(r.status).toBe(504);
    expect(r.headers['x-leakwatch-error']).toBe('LW_UPSTREAM_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5_000);
    const ex = await shortConnect.waitFor((e) => e.request.host === 'silent.test');
    expect(ex.error?.code).toBe('LW_UPSTREAM_TIMEOUT');
    expect(ex.error?.message).toMatch(/connect/);
  } finally {
    a.destroy();
  }
});
