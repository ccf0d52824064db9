// Defect: after `CONNECT host:443` answered 200, a client that never sent a byte kept the tunnel
// open forever: http.Server removes its timeout listener when it hands a socket to 'connect'.
// Fix: proxy/connect.ts gives the tunnel the headers timeout to send its first byte.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openTunnel } from '../../helpers/connect-client.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
// An origin that accepts and never speaks: the proxy dials it before answering the CONNECT.
let origin: Server;
beforeAll(async () => {
  origin = createServer(() => undefined);
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  proxy = await startTestProxy({ headersTimeoutMs: 800 });
});
afterAll(async () => {
  await proxy.close();
  origin.close();
});

it('a CONNECT tunnel that stays silent is closed after the headers timeout', async () => {
  const t = await openTunnel(proxy.port, `127.0.0.1:${(origin.address() as { port: number }).port}`);
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
