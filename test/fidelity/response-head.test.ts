/**
 * The origin's response head reaches the client as sent, read byte for byte by a raw client over
 * CONNECT + TLS and over plain HTTP: its reason phrase, raw header names, order and duplicate
 * lines, and nothing added (no date, no proxy-connection). An HTTP/1.0 client gets a
 * close-delimited body, never chunked framing. An absolute-form request goes upstream with the
 * URL's authority as Host, whatever Host the client sent; two Host headers get 400.
 */
import net from 'node:net';
import type tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTunnel, tlsInTunnel } from '../helpers/connect-client.js';
import { onRequestHead, startRawOrigin, startTlsRawOrigin, type RawOrigin } from '../helpers/raw-origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

function script(socket: net.Socket): void {
  onRequestHead(socket, (head) => {
    const path = head.split(' ')[1] ?? '/';
    if (path.endsWith('/chunked')) return void socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    if (path.endsWith('/host')) {
      const host = /\r\nhost: ([^\r]*)/i.exec(head)?.[1] ?? '';
      return void socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${host.length}\r\n\r\n${host}`);
    }
    socket.end('HTTP/1.1 299 Custom Reason Here\r\nX-Dup: a\r\nX-MiXed-Case: v\r\nX-Dup: b\r\nContent-Length: 2\r\n\r\nok');
  });
}

let plain: RawOrigin;
let secure: RawOrigin;
let proxy: TestProxy;

beforeAll(async () => {
  const pki = await testPki('origin');
  plain = await startRawOrigin(script);
  secure = await startTlsRawOrigin(pki.leaf('raw.test'), script);
  proxy = await startTestProxy({ routes: { 'raw.test': secure.port, 'plain.test': plain.port, 'blocked.test': plain.port } });
});

afterAll(async () => {
  await proxy?.close();
  await plain?.close();
  await secure?.close();
});

/** Writes `request` on `socket` and returns every byte until the connection closes. */
function exchange(socket: net.Socket | tls.TLSSocket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
    socket.once('close', () => resolve(out));
    socket.once('error', reject);
    socket.resume();
    socket.write(request);
  });
}

async function viaTls(request: string): Promise<string> {
  const t = await openTunnel(proxy.port, 'raw.test:443');
  const s = await tlsInTunnel(t.socket, { servername: 'raw.test', ca: proxy.caPem });
  return exchange(s, request);
}

function viaPlain(request: string): Promise<string> {
  return exchange(net.connect(proxy.port, '127.0.0.1'), request);
}

const plainUrl = (path: string): string => `http://plain.test:${plain.port}${path}`;
const headOf = (raw: string): string[] => raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');

describe.each([
  ['https', (path: string, version = '1.1', extra = '') => viaTls(`GET ${path} HTTP/${version}\r\nHost: raw.test\r\nConnection: close\r\n${extra}\r\n`)],
  ['http', (path: string, version = '1.1', extra = '') => viaPlain(`GET ${plainUrl(path)} HTTP/${version}\r\nHost: plain.test:${plain.port}\r\nConnection: close\r\n${extra}\r\n`)],
] as const)('%s', (_name, get) => {
  it('status line and header lines as the origin sent them, nothing added', async () => {
    const head = headOf(await get('/'));
    expect(head[0]).toBe('HTTP/1.1 299 Custom Reason Here');
    const lines = head.slice(1).filter((l) => /^x-/i.test(l));
    expect(lines).toEqual(['X-Dup: a', 'X-MiXed-Case: v', 'X-Dup: b']);
    expect(head.some((l) => /^date:/i.test(l))).toBe(false);
    expect(head.some((l) => /^proxy-connection:/i.test(l))).toBe(false);
  });

  it('an HTTP/1.0 client gets a close-delimited body, not chunked', async () => {
    const raw = await get('/chunked', '1.0');
    const head = headOf(raw);
    expect(head.some((l) => /^transfer-encoding:/i.test(l))).toBe(false);
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe('hello world');
  });

  it('an HTTP/1.1 client still gets the chunked body intact', async () => {
    const raw = await get('/chunked');
    expect(headOf(raw)).toContain('Transfer-Encoding: chunked');
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
  });
});

describe('Host of absolute-form requests', () => {
  it('goes upstream as the URL authority, not the Host the client sent', async () => {
    const raw = await viaPlain(`GET ${plainUrl('/host')} HTTP/1.1\r\nHost: blocked.test\r\nConnection: close\r\n\r\n`);
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe(`plain.test:${plain.port}`);
    const ex = await proxy.waitFor((e) => e.request.path === '/host');
    expect(ex.request.host).toBe('plain.test');
  });

  it('two Host headers get 400 (both paths)', async () => {
    const [a, b] = await Promise.all([
      viaPlain(`GET ${plainUrl('/')} HTTP/1.1\r\nHost: plain.test:${plain.port}\r\nHost: blocked.test\r\nConnection: close\r\n\r\n`),
      viaTls('GET / HTTP/1.1\r\nHost: raw.test\r\nHost: blocked.test\r\nConnection: close\r\n\r\n'),
    ]);
    expect(headOf(a)[0]).toMatch(/^HTTP\/1\.1 400 /);
    expect(headOf(b)[0]).toMatch(/^HTTP\/1\.1 400 /);
  });
});
