// Hostile upstreams and clients: each gets a clear status or a clean close, and the next client
// is still served.
import net from 'node:net';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectAgent, httpViaProxy, openTunnel, request } from '../helpers/connect-client.js';
import { closedPort, onRequestHead, startRawOrigin, type RawOrigin } from '../helpers/raw-origin.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

let proxy: TestProxy;
let good: Origin;
let rogue: Origin;
const raws: RawOrigin[] = [];
const raw = async (fn: (s: net.Socket) => void): Promise<number> => {
  const r = await startRawOrigin(fn);
  raws.push(r);
  return r.port;
};

beforeAll(async () => {
  const [originPki, roguePki] = await Promise.all([testPki('origin'), testPki('rogue')]);
  good = await startOrigin({ tls: originPki.leaf('good.test'), routes: { '*': (_q, r) => r.end('ok') } });
  rogue = await startOrigin({ tls: roguePki.leaf('badcert.test'), routes: { '*': (_q, r) => r.end('should not see') } });
  const routes = {
    'good.test': good.port,
    'badcert.test': rogue.port,
    'refused.test': await closedPort(),
    'hang.test': await raw(() => undefined),
    'garbage.test': await raw((s) => onRequestHead(s, () => s.end('SSH-2.0-lol\r\n\x00\x01\x02'))),
    'trailer.test': await raw((s) => onRequestHead(s, () => s.end('HTTP/1.1 200 OK\r\nTrailer: X\r\nContent-Length: 2\r\n\r\nok'))),
  };
  proxy = await startTestProxy({ routes, idleTimeoutMs: 500 });
});
afterAll(async () => {
  await proxy.close();
  await good.close();
  await rogue.close();
  for (const r of raws) await r.close();
});

async function stillServes(): Promise<void> {
  const agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
  const r = await request(https, { host: 'good.test', port: 443, path: '/', agent });
  agent.destroy();
  expect(r.body.toString()).toBe('ok');
}

describe('hostile upstreams (HTTP and HTTPS)', () => {
  it.each([
    ['refused.test', 502, 'LW_UPSTREAM_REFUSED'],
    ['hang.test', 504, 'LW_UPSTREAM_TIMEOUT'],
    ['garbage.test', 502, 'LW_UPSTREAM_PROTOCOL'],
    ['badcert.test', 502, 'LW_UPSTREAM_TLS'],
    ['trailer.test', 200, undefined],
  ])('%s -> %i', async (host, status, code) => {
    const viaTls = host === 'badcert.test';
    const r = viaTls
      ? await request(https, { host, port: 443, path: '/', agent: new ConnectAgent(proxy.port, { ca: proxy.caPem, keepAlive: false }) })
      : await httpViaProxy(proxy.port, `http://${host}/`);
    expect(r.status).toBe(status);
    if (status >= 500) expect(r.body.toString()).toMatch(/^(Bad Gateway|Gateway Timeout)\n(upstream TLS: [a-z ]+\n)?$/);
    const ex = await proxy.waitFor((e) => e.request.host === host && e.request.method === 'GET');
    expect(ex.error?.code).toBe(code);
    await stillServes();
  });
});

describe('hostile clients', () => {
  it('garbage bytes get 400 and a close', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1', () => s.write('\x16\x03\x01garbage\r\n\r\n'));
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    await stillServes();
  });

  it.each([
    ['../../x:443', 400],
    ['good.test', 400],
    [`127.0.0.1:${0}`, 400],
  ])('CONNECT %s -> %i', async (target, status) => {
    const t = await openTunnel(proxy.port, target);
    t.socket.destroy();
    expect(t.status).toBe(status);
    await stillServes();
  });

  it('refuses to proxy to itself (loop)', async () => {
    const r = await httpViaProxy(proxy.port, `http://127.0.0.1:${proxy.port}/`);
    expect(r.status).toBe(508);
    const t = await openTunnel(proxy.port, `127.0.0.1:${proxy.port}`);
    t.socket.destroy();
    expect(t.status).toBe(508);
    await proxy.waitFor((e) => e.error?.code === 'LW_LOOP');
    await stillServes();
  });

  it('origin-form requests to the proxy itself are refused with 400', async () => {
    const r = await new Promise<string>((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: good.test\r\nConnection: close\r\n\r\n'));
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString()));
      s.on('close', () => resolve(got));
    });
    expect(r).toMatch(/^HTTP\/1\.1 400/);
  });

  it('a Host header that differs from the CONNECT target gets 421', async () => {
    const agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
    const r = await request(https, { host: 'good.test', port: 443, path: '/', agent, headers: { host: 'evil.test' } });
    agent.destroy();
    expect(r.status).toBe(421);
  });
});
