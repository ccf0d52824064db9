// Defect: when the upstream WebSocket failed, the library called close(1006) (invalid, throws) and
// left the client stuck in CLOSING. Now the origin is dialled first and the client gets a 502
// (the ws client reports the failed handshake as close 1006) promptly.
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { closedPort } from '../../helpers/raw-origin.js';
import { absoluteFormConnection } from '../../helpers/ws-client.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
beforeAll(async () => {
  proxy = await startTestProxy({ routes: { 'dead.test': await closedPort() } });
});
afterAll(() => proxy.close());

it('closes the client promptly when the upstream is refused', async () => {
  const t0 = Date.now();
  const ws = new WebSocket('ws://dead.test/x', { createConnection: absoluteFormConnection(proxy.port, 'http://dead.test') });
  const code = await new Promise<number>((resolve) => {
    ws.once('close', (c) => resolve(c));
    ws.once('error', () => undefined);
  });
  expect(Date.now() - t0).toBeLessThan(2000);
  expect([1014, 1006]).toContain(code);
  expect(ws.readyState).toBe(WebSocket.CLOSED);
});
