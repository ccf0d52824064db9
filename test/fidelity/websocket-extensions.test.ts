/**
 * WebSocket extensions are the origin's: the client (ws, wss over CONNECT + TLS) gets exactly the
 * Sec-WebSocket-Extensions the origin answered (permessage-deflate with its parameters), the relay
 * speaks those parameters to the client, an origin that refuses the extension leaves the client
 * without one, and a client that offers none gets none even from an origin that would accept it.
 */
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions } from 'ws';
import { ConnectAgent } from '../helpers/connect-client.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

interface DeflateOrigin {
  readonly server: https.Server;
  /** The Sec-WebSocket-Extensions line of each 101 the origin sent ('' when none). */
  readonly answered: string[];
  /** The extensions each origin-side socket ended up with. */
  readonly negotiated: string[];
}

const servers: https.Server[] = [];
const sockets = new Set<Socket>();
let proxy: TestProxy;
let agent: ConnectAgent;
let accepting: DeflateOrigin;
let refusing: DeflateOrigin;

async function deflateOrigin(leaf: { key: string; cert: string }, perMessageDeflate: PerMessageDeflateOptions | false): Promise<DeflateOrigin> {
  const server = https.createServer(leaf, (_q, r) => r.end('not ws'));
  const wss = new WebSocketServer({ server, perMessageDeflate });
  const answered: string[] = [];
  const negotiated: string[] = [];
  wss.on('headers', (lines) => answered.push(lines.find((l) => /^sec-websocket-extensions:/i.test(l))?.replace(/^[^:]+:\s*/, '') ?? ''));
  wss.on('connection', (ws) => {
    negotiated.push(ws.extensions);
    // Twice the same text: with context takeover the second copy is a back-reference to the first.
    ws.on('message', (data) => {
      ws.send(data);
      ws.send(data);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { server, answered, negotiated };
}

beforeAll(async () => {
  const pki = await testPki('origin');
  accepting = await deflateOrigin(pki.leaf('deflate.test'), { serverNoContextTakeover: true, clientMaxWindowBits: 10, threshold: 0 });
  refusing = await deflateOrigin(pki.leaf('plain.test'), false);
  const port = (o: DeflateOrigin): number => (o.server.address() as AddressInfo).port;
  proxy = await startTestProxy({ routes: { 'deflate.test': port(accepting), 'plain.test': port(refusing) } });
  agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
});

afterAll(async () => {
  agent?.destroy();
  await proxy?.close();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function session(host: string, perMessageDeflate: PerMessageDeflateOptions | boolean): Promise<{ header: string | undefined; extensions: string; echoes: string[] }> {
  const ws = new WebSocket(`wss://${host}/`, { agent, perMessageDeflate });
  let header: string | undefined;
  ws.once('upgrade', (res) => (header = res.headers['sec-websocket-extensions'] as string | undefined));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const text = 'leakwatch '.repeat(300);
  const echoes: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (d) => {
      echoes.push(d.toString());
      if (echoes.length === 2) resolve();
    });
    ws.once('close', (code) => reject(new Error(`closed ${code} after ${echoes.length} echoes`)));
  });
  ws.send(text);
  await done;
  ws.removeAllListeners('close');
  const extensions = ws.extensions;
  ws.close();
  expect(echoes).toEqual([text, text]);
  return { header, extensions, echoes };
}

it("the client gets the origin's permessage-deflate parameters, and the relay speaks them", async () => {
  const before = accepting.answered.length;
  const r = await session('deflate.test', true);
  const origin = accepting.answered[before];
  expect(origin).toBe('permessage-deflate; client_max_window_bits=10; server_no_context_takeover');
  expect(r.header).toBe(origin);
  expect(r.extensions).toBe('permessage-deflate');
  // The proxy's own leg to the origin negotiated the extension too (it offered what the client offered).
  expect(accepting.negotiated.at(-1)).toBe('permessage-deflate');
});

it('an origin that refuses the extension: the client gets none', async () => {
  const r = await session('plain.test', true);
  expect(refusing.answered.at(-1)).toBe('');
  expect(r.header).toBeUndefined();
  expect(r.extensions).toBe('');
});

it('a client that offers no extension gets none, even from an origin that would accept it', async () => {
  const before = accepting.negotiated.length;
  const r = await session('deflate.test', false);
  expect(r.header).toBeUndefined();
  expect(r.extensions).toBe('');
  expect(accepting.negotiated[before]).toBe('');
});
