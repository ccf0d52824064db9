/**
 * Big heads and odd status lines, over CONNECT + TLS and plain HTTP: a 60 KB request header and a
 * 60 KB response header pass both ways; a request head over 64 KiB gets a clear 431; an origin that
 * answers 101 to a plain GET gets the client a prompt 502 (it used to hang until a timeout).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectAgent, request, type SimpleResponse } from '../helpers/connect-client.js';
import { onRequestHead, startRawOrigin, startTlsRawOrigin, type RawOrigin } from '../helpers/raw-origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

const BIG = 'x'.repeat(60_000);

/** Answers each request head by what its path asks for. */
function script(socket: net.Socket): void {
  onRequestHead(socket, (head) => {
    const path = head.split(' ')[1] ?? '/';
    if (path === '/switch') return void socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: nonsense\r\nConnection: Upgrade\r\n\r\n');
    const got = /\r\nx-big: (x*)/i.exec(head)?.[1]?.length ?? 0;
    const body = `request header bytes: ${got}`;
    const extra = path === '/big-response' ? `X-Big: ${BIG}\r\n` : '';
    socket.end(`HTTP/1.1 200 OK\r\n${extra}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
}

let plain: RawOrigin;
let secure: RawOrigin;
let proxy: TestProxy;
let agent: ConnectAgent;

beforeAll(async () => {
  const pki = await testPki('origin');
  plain = await startRawOrigin(script);
  secure = await startTlsRawOrigin(pki.leaf('heads.test'), script);
  proxy = await startTestProxy({ routes: { 'heads.test': secure.port, 'plain.test': plain.port } });
  agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
});

afterAll(async () => {
  agent?.destroy();
  await proxy?.close();
  await plain?.close();
  await secure?.close();
});

/** The same request over both paths; the client itself accepts big heads. */
function both(path: string, headers: Record<string, string> = {}): Promise<[SimpleResponse, SimpleResponse]> {
  return Promise.all([
    request(https, { host: 'heads.test', port: 443, path, agent, headers, maxHeaderSize: 256 * 1024 }),
    request(http, { host: '127.0.0.1', port: proxy.port, path: `http://plain.test:${plain.port}${path}`, agent: false, headers: { host: `plain.test:${plain.port}`, ...headers }, maxHeaderSize: 256 * 1024 }),
  ]);
}

describe('header limits', () => {
  it('a 60 KB request header reaches the origin (HTTPS and HTTP)', async () => {
    for (const r of await both('/', { 'X-Big': BIG })) {
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('request header bytes: 60000');
    }
  });

  it('a 60 KB response header reaches the client', async () => {
    for (const r of await both('/big-response')) {
      expect(r.status).toBe(200);
      expect(r.headers['x-big']).toBe(BIG);
    }
  });

  it('a request head over 64 KiB gets 431', async () => {
    for (const r of await both('/', { 'X-Big': 'y'.repeat(70_000) })) expect(r.status).toBe(431);
  });
});

it('an origin answering 101 to a plain GET: prompt 502 (HTTPS and HTTP)', async () => {
  const t0 = Date.now();
  for (const r of await both('/switch')) {
    expect(r.status).toBe(502);
    expect(r.headers['x-leakwatch-error']).toBe('LW_UPSTREAM_PROTOCOL');
  }
  expect(Date.now() - t0).toBeLessThan(3000);
});
