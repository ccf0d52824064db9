import { createHash } from 'node:crypto';
import https from 'node:https';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectAgent, request } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const BIG = Buffer.alloc(3 * 1024 * 1024, 'x');
const TEXT = Buffer.from('leakwatch '.repeat(5000));
const GZ = gzipSync(TEXT);
const BR = brotliCompressSync(TEXT);

let proxy: TestProxy;
let origin: Origin;
let agent: ConnectAgent;
beforeAll(async () => {
  const pki = await testPki('origin');
  origin = await startOrigin({
    tls: pki.leaf('rec.test'),
    routes: {
      '/big': (_q, r) => r.end(BIG),
      '/gzip': (_q, r) => r.writeHead(200, { 'content-encoding': 'gzip', 'content-length': GZ.length }).end(GZ),
      '/br': (_q, r) => r.writeHead(200, { 'content-encoding': 'br' }).end(BR),
      '/etag': (q, r) => {
        if (q.headers['if-none-match'] === '"v1"') return void r.writeHead(304, { ETag: '"v1"' }).end();
        r.writeHead(200, { ETag: '"v1"', 'Content-Length': 5 }).end(q.method === 'HEAD' ? undefined : 'hello');
      },
      '/echo': (q, r) => q.pipe(r),
    },
  });
  proxy = await startTestProxy({ routes: { 'rec.test': origin.port } });
  agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
});
afterAll(async () => {
  agent.destroy();
  await proxy.close();
  await origin.close();
});

const get = (path: string, opts: https.RequestOptions = {}, body?: Buffer) => request(https, { host: 'rec.test', port: 443, path, agent, ...opts }, body);

describe('exchange records', () => {
  it('keeps raw request headers in wire order and case', async () => {
    await get('/echo', { method: 'POST', headers: { 'X-Zeta': '1', 'x-Alpha': '2', 'Content-Type': 'text/plain' } }, Buffer.from('ping'));
    const ex = await proxy.waitFor((e) => e.request.path === '/echo');
    const names = ex.request.headers.map(([k]) => k);
    expect(names.indexOf('X-Zeta')).toBeLessThan(names.indexOf('x-Alpha'));
    expect(ex.request.body.bytes.toString()).toBe('ping');
    expect(ex.response?.body.bytes.toString()).toBe('ping');
    expect(ex.request).toMatchObject({ method: 'POST', scheme: 'https', host: 'rec.test', port: 443, url: 'https://rec.test/echo' });
    expect(ex.endedAt).toBeGreaterThanOrEqual(ex.startedAt);
  });

  it('caps the capture at 1 MiB but delivers all 3 MiB', async () => {
    const r = await get('/big');
    expect(r.body.length).toBe(BIG.length);
    const ex = await proxy.waitFor((e) => e.request.path === '/big');
    expect(ex.response?.body).toMatchObject({ size: BIG.length, truncated: true });
    expect(ex.response?.body.bytes.length).toBe(1024 * 1024);
  });

  it.each([
    ['/gzip', GZ],
    ['/br', BR],
  ])('%s reaches the client byte-identical', async (path, expected) => {
    const r = await get(path, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(sha(r.body)).toBe(sha(expected));
    const ex = await proxy.waitFor((e) => e.request.path === path);
    expect(sha(ex.response!.body.bytes)).toBe(sha(expected));
  });

  it('HEAD keeps Content-Length and ETag, no chunking', async () => {
    const r = await get('/etag', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('5');
    expect(r.headers['etag']).toBe('"v1"');
    expect(r.headers['transfer-encoding']).toBeUndefined();
  });

  it('304 keeps ETag and has no body', async () => {
    const r = await get('/etag', { headers: { 'if-none-match': '"v1"' } });
    expect(r.status).toBe(304);
    expect(r.headers['etag']).toBe('"v1"');
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.body.length).toBe(0);
  });

  it('all of the above went over one CONNECT tunnel (keep-alive)', () => {
    expect(agent.tunnels).toBe(1);
  });
});
