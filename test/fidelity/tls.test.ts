/**
 * TLS towards both ends: an origin certificate that is refused is named (hostname mismatch, unknown
 * issuer) in the client's 502 and in the record, and a client offering only http/1.0 in ALPN gets
 * through the CONNECT + TLS path.
 */
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectAgent, openTunnel, request } from '../helpers/connect-client.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { testPki } from '../helpers/tls-fixtures.js';

let good: Origin;
let mismatch: Origin;
let rogue: Origin;
let proxy: TestProxy;
let agent: ConnectAgent;

beforeAll(async () => {
  const [origin, untrusted] = await Promise.all([testPki('origin'), testPki('rogue')]);
  const routes = { '*': (_q: unknown, r: { end(b: string): void }) => r.end('fine') } as never;
  [good, mismatch, rogue] = await Promise.all([
    startOrigin({ tls: origin.leaf('good.test'), routes }),
    startOrigin({ tls: origin.leaf('someone-else.test'), routes }),
    startOrigin({ tls: untrusted.leaf('rogue.test'), routes }),
  ]);
  proxy = await startTestProxy({ routes: { 'good.test': good.port, 'mismatch.test': mismatch.port, 'rogue.test': rogue.port } });
  agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
});

afterAll(async () => {
  agent?.destroy();
  await proxy?.close();
  await Promise.all([good?.close(), mismatch?.close(), rogue?.close()]);
});

it.each([
  ['mismatch.test', 'certificate hostname mismatch'],
  ['rogue.test', 'certificate from an unknown issuer'],
])('%s: 502 naming the cause, in the body and the record', async (host, cause) => {
  const r = await request(https, { host, port: 443, path: '/', agent });
  expect(r.status).toBe(502);
  expect(r.body.toString()).toBe(`Bad Gateway\nupstream TLS: ${cause}\n`);
  const ex = await proxy.waitFor((e) => e.request.host === host && e.kind === 'http' && e.request.method === 'GET');
  expect(ex.error?.code).toBe('LW_UPSTREAM_TLS');
  expect(ex.error?.message.startsWith(`${cause}: `)).toBe(true);
});

it('a client offering only http/1.0 in ALPN is accepted and answered', async () => {
  const t = await openTunnel(proxy.port, 'good.test:443');
  const s = tls.connect({ socket: t.socket, servername: 'good.test', ca: proxy.caPem, ALPNProtocols: ['http/1.0'] });
  await new Promise<void>((resolve, reject) => {
    s.once('secureConnect', resolve);
    s.once('error', reject);
  });
  expect(s.alpnProtocol).toBe('http/1.0');
  const raw = await new Promise<string>((resolve, reject) => {
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.once('close', () => resolve(out));
    s.once('error', reject);
    s.write('GET / HTTP/1.0\r\nHost: good.test\r\n\r\n');
  });
  expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  expect(raw.endsWith('\r\n\r\nfine')).toBe(true);
});
