// Defect: a WebSocket upgrade through the proxy to a NAME that resolves to one of our own
// listeners (the machine's hostname via /etc/hosts, a --resolve entry without a port, DNS
// rebinding) was dialled: only HTTP flows checked the connected peer, so `ws://<hostname>:<dashboard
// port>/` reached the dashboard (which refused it, LW_INTERNAL). Fix: proxy/agent-guard.ts checks
// every upstream socket's peer at the agents and destroys it with LW_LOOP before a byte is sent.
import dns from 'node:dns/promises';
import http from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { absoluteFormConnection } from '../../helpers/ws-client.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
let own: http.Server;
let reached = 0;
// The machine's own name resolves to loopback through /etc/hosts (here: 127.0.0.1): no name check
// can know that, only the dialled peer shows it is us.
const selfName = hostname();
const addr = await dns.lookup(selfName).catch(() => undefined);
const loopbackName = addr !== undefined && (addr.address.startsWith('127.') || addr.address === '::1');
beforeAll(async () => {
  // Stands in for our dashboard: a listener the proxy is told is its own.
  own = http.createServer((_q, r) => r.end('dashboard'));
  const wss = new WebSocketServer({ server: own });
  wss.on('connection', () => reached++);
  own.on('upgrade', () => reached++);
  await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
  const port = (own.address() as AddressInfo).port;
  proxy = await startTestProxy({ forbiddenTargets: () => [{ port }] });
});
afterAll(async () => {
  await proxy.close();
  own.closeAllConnections();
  await new Promise<void>((r) => own.close(() => r()));
});

it.skipIf(!loopbackName)('ws:// to a name that resolves to our own listener is refused with LW_LOOP and never reaches it', async () => {
  const port = (own.address() as AddressInfo).port;
  // The origin is dialled before the client gets any answer: the refusal is an HTTP 508.
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://${selfName}:${port}/api/stream`, { createConnection: absoluteFormConnection(proxy.port, `http://${selfName}:${port}`) as never });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => resolve(101));
    ws.once('error', () => undefined);
  });
  expect(status).toBe(508);
  const ex = await proxy.waitFor((e) => e.request.host === selfName && e.error !== undefined);
  expect(ex.error?.code).toBe('LW_LOOP');
  expect(reached).toBe(0);
});

it.skipIf(!loopbackName)('plain HTTP to the same name is refused with 508 too', async () => {
  const port = (own.address() as AddressInfo).port;
  const r = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, path: `http://${selfName}:${port}/`, agent: false, headers: { host: `${selfName}:${port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(r).toBe(508);
});
