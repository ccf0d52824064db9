// Defect: the inner server (decrypted CONNECT tunnels) never listens, and Node arms an http.Server's
// headersTimeout only on 'listening'; a request head dribbled inside a TLS tunnel was never cut
// (each byte reset the 120 s idle timer). Fix: proxy/client-limits.ts starts its tracking.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTunnel, tlsInTunnel } from '../../helpers/connect-client.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';
import { testPki } from '../../helpers/tls-fixtures.js';

let proxy: TestProxy;
let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin({ tls: (await testPki('origin')).leaf('good.test'), routes: { '*': (_q, r) => r.end('ok') } });
  proxy = await startTestProxy({ routes: { 'good.test': origin.port }, headersTimeoutMs: 1000 });
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

it('a request head dribbled inside a TLS tunnel is cut after the headers timeout', async () => {
  const t = await openTunnel(proxy.port, 'good.test:443');
  t.socket.resume();
  const s = await tlsInTunnel(t.socket, { servername: 'good.test', ca: proxy.caPem });
  const t0 = Date.now();
  const head = 'GET / HTTP/1.1\r\nHost: good.test\r\nX-Slow: ';
  let i = 0;
  const drip = setInterval(() => s.writable && s.write(head[i++ % head.length]!), 100);
  const closed = await new Promise<boolean>((resolve) => {
    s.once('close', () => resolve(true));
    s.on('error', () => undefined);
    setTimeout(() => resolve(false), 6000);
  });
  clearInterval(drip);
  s.destroy();
  expect(closed).toBe(true);
  expect(Date.now() - t0).toBeLessThan(4000);
}, 10_000);
