// Defect: after `CONNECT host:443` answered 200, a client that never sent a byte kept the tunnel
// open forever: http.Server removes its timeout listener when it hands a socket to 'connect'.
// Fix: proxy/connect.ts gives the tunnel the headers timeout to send its first byte.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTunnel } from '../../helpers/connect-client.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy({ headersTimeoutMs: 800 });
});
afterAll(() => proxy.close());

it('a CONNECT tunnel that stays silent is closed after the headers timeout', async () => {
  const t = await openTunnel(proxy.port, 'silent.test:443');
  expect(t.status).toBe(200);
  t.socket.resume();
  const t0 = Date.now();
  const closed = await new Promise<boolean>((resolve) => {
    t.socket.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 5000);
  });
  t.socket.destroy();
  expect(closed).toBe(true);
  expect(Date.now() - t0).toBeLessThan(3000);
}, 10_000);
