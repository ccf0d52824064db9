import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openTunnel } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';
import { absoluteFormConnection, ConnectAgent } from '../helpers/ws-client.js';

let proxy: TestProxy;
let plain: Origin;
let secure: Origin;
beforeAll(async () => {
  const pki = await testPki('origin');
  plain = await startOrigin({ ws: true, wsProtocols: ['chat'] });
  secure = await startOrigin({ tls: pki.leaf('wss.test'), ws: true, wsProtocols: ['chat'] });
  proxy = await startTestProxy({ routes: { 'ws.test': plain.port, 'wss.test': secure.port } });
});
afterAll(async () => {
  await proxy.close();
  await plain.close();
  await secure.close();
});

async function roundTrip(ws: WebSocket): Promise<{ text: string; binary: Buffer }> {
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  expect(ws.protocol).toBe('chat');
  const text = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
  ws.send('hello');
  const t = await text;
  const bin = new Promise<Buffer>((r) => ws.once('message', (d) => r(d as Buffer)));
  ws.send(Buffer.from([1, 2, 3]), { binary: true });
  const b = await bin;
  ws.close(1000);
  await new Promise((r) => ws.once('close', r));
  return { text: t, binary: b };
}

describe('websockets through the proxy', () => {
  it.each([
    ['wss over CONNECT', () => new WebSocket('wss://wss.test/s', ['chat'], { agent: new ConnectAgent(proxy.port, { ca: proxy.caPem }) }), 'wss.test', 'wss'],
    ['ws absolute-form', () => new WebSocket('ws://ws.test/s', ['chat'], { createConnection: absoluteFormConnection(proxy.port, 'http://ws.test') }), 'ws.test', 'ws'],
  ])('%s relays text and binary and records each message', async (_name, open, host, scheme) => {
    const r = await roundTrip(open());
    expect(r.text).toBe('echo:hello');
    expect([...r.binary]).toEqual([1, 2, 3]);
    const sent = await proxy.waitFor((e) => e.kind === 'websocket' && e.request.host === host && e.websocket?.direction === 'send' && !e.websocket.binary);
    expect(sent.websocket?.data.bytes.toString()).toBe('hello');
    expect(sent.request.url).toBe(`${scheme}://${host}/s`);
    const got = await proxy.waitFor((e) => e.kind === 'websocket' && e.request.host === host && e.websocket?.direction === 'receive' && e.websocket.binary);
    expect([...got.websocket!.data.bytes]).toEqual([1, 2, 3]);
    expect(got.websocket?.connectionId).toBe(sent.websocket?.connectionId);
  });

  it('ws over a plain CONNECT tunnel', async () => {
    const t = await openTunnel(proxy.port, 'ws.test:80');
    expect(t.status).toBe(200);
    t.socket.resume();
    const r = await roundTrip(new WebSocket('ws://ws.test/t', ['chat'], { createConnection: () => t.socket }));
    expect(r.text).toBe('echo:hello');
    await proxy.waitFor((e) => e.kind === 'websocket' && e.request.path === '/t');
  });
});
