// Defect: `CONNECT [::1]:443` was parsed as host "[" (certificate CN=[, a key file named "[.key",
// then 504). Now IPv6 literals are parsed properly and intercepted with an IP-SAN certificate.
import https from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTunnel, request, tlsInTunnel } from '../../helpers/connect-client.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';
import { testPki } from '../../helpers/tls-fixtures.js';

let proxy: TestProxy;
let origin: Origin;
beforeAll(async () => {
  const pki = await testPki('origin');
  origin = await startOrigin({ tls: pki.leaf('::1'), host: '::1', routes: { '*': (_q, r) => r.end('v6') } });
  proxy = await startTestProxy();
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

it('intercepts CONNECT [::1]:port with a certificate for ::1', async () => {
  const t = await openTunnel(proxy.port, `[::1]:${origin.port}`);
  expect(t.status).toBe(200);
  const tlsSocket = await tlsInTunnel(t.socket, { ca: proxy.caPem, host: '::1' });
  const r = await request(https, { host: '::1', port: origin.port, path: '/', createConnection: () => tlsSocket });
  expect(r.status).toBe(200);
  expect(r.body.toString()).toBe('v6');
  const ex = await proxy.waitFor((e) => e.request.host === '::1' && e.kind === 'http' && e.request.method === 'GET');
  expect(ex.request.url).toBe(`https://[::1]:${origin.port}/`);
});

it.each(['[::1]', '[::1:443', '::1:443', '[fe80::1%eth0]:443'])('rejects malformed %s with 400', async (target) => {
  const t = await openTunnel(proxy.port, target);
  t.socket.destroy();
  expect(t.status).toBe(400);
});
