import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectAgent, openTunnel, request, tlsInTunnel } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

let proxy: TestProxy;
let pinned: Origin;
let originCa: string;
beforeAll(async () => {
  const pki = await testPki('origin');
  originCa = pki.caPem;
  pinned = await startOrigin({ tls: pki.leaf('pinned.test'), routes: { '*': (_q, r) => r.end('direct') } });
  proxy = await startTestProxy({ routes: { 'pinned.test': pinned.port, 'app.test': pinned.port }, passthrough: ['pinned.test'] });
});
afterAll(async () => {
  await proxy.close();
  await pinned.close();
});

describe('TLS edges', () => {
  it('passthrough hosts are tunnelled untouched: the client sees the origin certificate', async () => {
    const agent = new ConnectAgent(proxy.port, { ca: originCa, keepAlive: false });
    const r = await request(https, { host: 'pinned.test', port: 443, path: '/', agent });
    expect(r.body.toString()).toBe('direct');
    const ex = await proxy.waitFor((e) => e.request.method === 'CONNECT' && e.request.host === 'pinned.test');
    expect(ex.tls?.intercepted).toBe(false);
    expect(ex.response?.status).toBe(200);
    expect(ex.request.body.size).toBe(0);
  });

  it('a client rejecting our certificate (pinning) is recorded as tls-failure', async () => {
    const t = await openTunnel(proxy.port, 'app.test:443');
    await expect(tlsInTunnel(t.socket, { servername: 'app.test', ca: originCa })).rejects.toThrow();
    const ex = await proxy.waitFor((e) => e.kind === 'tls-failure' && e.request.host === 'app.test');
    expect(ex.error?.code).toBe('LW_CLIENT_TLS_REJECTED');
    expect(ex.tls?.intercepted).toBe(true);
  });
});
