/**
 * WebSocket handshakes are the origin's: a `ws` client through the proxy (wss over CONNECT + TLS,
 * and ws in absolute form) gets the subprotocol the origin chose from its whole offer, the origin's
 * 101 headers (Set-Cookie), the origin's refusal as is (401 with its body), one pong per ping,
 * 1006 when the origin vanishes, and 1009 for a message over --ws-max-payload.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ConnectAgent } from '../helpers/connect-client.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';
import { absoluteFormConnection } from '../helpers/ws-client.js';

const MAX = 4096;
let plain: http.Server;
let secure: https.Server;
let proxy: TestProxy;
let agent: ConnectAgent;
const sockets = new Set<Socket>();

/** Refuses /refuse with 401; otherwise accepts, choosing only matrix.v2, and echoes. */
function attach(server: http.Server): void {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('matrix.v2') ? 'matrix.v2' : false) });
  wss.on('headers', (lines) => lines.push('Set-Cookie: sid=abc; Path=/', 'Set-Cookie: other=1'));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/refuse') return void socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="x"\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n{"errcode":"M_NO_TOKEN"}\n');
    wss.handleUpgrade(req, socket as Socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        if (data.toString() === 'die') return void (ws as unknown as { _socket: Socket })._socket.destroy();
        ws.send(data, { binary: isBinary });
      });
    });
  });
}

beforeAll(async () => {
  const pki = await testPki('origin');
  plain = http.createServer((_req, res) => res.end('not ws'));
  secure = https.createServer(pki.leaf('wsx.test'), (_req, res) => res.end('not ws'));
  attach(plain);
  attach(secure);
  await Promise.all([new Promise<void>((r) => plain.listen(0, '127.0.0.1', r)), new Promise<void>((r) => secure.listen(0, '127.0.0.1', r))]);
  proxy = await startTestProxy({
    routes: { 'wsx.test': (secure.address() as AddressInfo).port, 'wsp.test': (plain.address() as AddressInfo).port },
    wsMaxPayload: MAX,
  });
  agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
});

afterAll(async () => {
  agent?.destroy();
  await proxy?.close();
  for (const s of sockets) s.destroy();
  await Promise.all([new Promise((r) => plain.close(r)), new Promise((r) => secure.close(r))]);
});

type Path = 'wss' | 'ws';
function open(path: Path, url: string, protocols: string[] = []): WebSocket {
  if (path === 'wss') return new WebSocket(`wss://wsx.test${url}`, protocols, { agent });
  const port = (plain.address() as AddressInfo).port;
  return new WebSocket(`ws://wsp.test:${port}${url}`, protocols, { createConnection: absoluteFormConnection(proxy.port, `http://wsp.test:${port}`) as never });
}

const opened = (ws: WebSocket): Promise<http.IncomingMessage> =>
  new Promise((resolve, reject) => {
    let upgrade: http.IncomingMessage | undefined;
    ws.once('upgrade', (res) => (upgrade = res));
    ws.once('open', () => resolve(upgrade!));
    ws.once('error', reject);
  });
const closed = (ws: WebSocket): Promise<number> => new Promise((resolve) => ws.once('close', (code) => resolve(code)));

describe.each(['wss', 'ws'] as const)('%s through the proxy', (path) => {
  it("the origin's chosen subprotocol (not the client's first) and its 101 headers", async () => {
    const ws = open(path, '/chat', ['other.first', 'matrix.v2']);
    const res = await opened(ws);
    expect(ws.protocol).toBe('matrix.v2');
    expect(res.headers['set-cookie']).toEqual(['sid=abc; Path=/', 'other=1']);
    ws.send('hello');
    const echo = await new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
    expect(echo).toBe('hello');
    ws.close();
  });

  it("the origin's refusal: 401 with its headers and body, no 101", async () => {
    const ws = open(path, '/refuse');
    const res = await new Promise<{ status: number; auth: unknown; body: string }>((resolve, reject) => {
      ws.once('open', () => reject(new Error('opened')));
      ws.once('error', () => undefined);
      ws.once('unexpected-response', (_req, r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.once('end', () => resolve({ status: r.statusCode ?? 0, auth: r.headers['www-authenticate'], body }));
      });
    });
    expect(res).toEqual({ status: 401, auth: 'Bearer realm="x"', body: '{"errcode":"M_NO_TOKEN"}\n' });
  });

  it('one pong per ping', async () => {
    const ws = open(path, '/chat');
    await opened(ws);
    let pongs = 0;
    ws.on('pong', () => pongs++);
    ws.ping('p1');
    await new Promise((r) => setTimeout(r, 400));
    expect(pongs).toBe(1);
    ws.close();
  });

  it('an origin that vanishes shows as 1006', async () => {
    const ws = open(path, '/chat');
    await opened(ws);
    const code = closed(ws);
    ws.send('die');
    expect(await code).toBe(1006);
  });

  it('a message over --ws-max-payload closes with 1009', async () => {
    const ws = open(path, '/chat');
    await opened(ws);
    ws.on('error', () => undefined);
    const code = closed(ws);
    ws.send(Buffer.alloc(MAX + 1));
    expect(await code).toBe(1009);
  });
});
