// Defect: the client's Sec-WebSocket-Protocol was not forwarded, so the client "negotiated" a
// subprotocol the origin never saw. Now the negotiated protocol is requested upstream.
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConnectAgent } from '../../helpers/ws-client.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';
import { testPki } from '../../helpers/tls-fixtures.js';

let proxy: TestProxy;
let origin: Origin;
beforeAll(async () => {
  const pki = await testPki('origin');
  origin = await startOrigin({ tls: pki.leaf('ws.test'), ws: true, wsProtocols: ['graphql-ws'] });
  proxy = await startTestProxy({ routes: { 'ws.test': origin.port } });
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

it('forwards the negotiated subprotocol upstream (wss over CONNECT)', async () => {
  const ws = new WebSocket('wss://ws.test/sock', ['graphql-ws'], { agent: new ConnectAgent(proxy.port, { ca: proxy.caPem }) });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  expect(ws.protocol).toBe('graphql-ws');
  const reply = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
  ws.send('hi');
  expect(await reply).toBe('echo:hi');
  expect(origin.seen.find((s) => s.method === 'WS')?.protocol).toBe('graphql-ws');
  ws.close();
});
