import https from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerValue } from '../../core/exchange.js';
import { ConnectAgent, httpViaProxy, request } from '../helpers/connect-client.js';
import { curl, splitHead } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { tempDataDir, testPki } from '../helpers/tls-fixtures.js';

let proxy: TestProxy;
let plain: Origin;
let secure: Origin;
let caFile: string;

const hello = (_req: unknown, res: import('node:http').ServerResponse): void => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Origin': 'yes' });
  res.end('hello');
};

beforeAll(async () => {
  const pki = await testPki('origin');
  plain = await startOrigin({ routes: { '/hello': hello } });
  secure = await startOrigin({ tls: pki.leaf('secure.test'), routes: { '/hello': hello } });
  proxy = await startTestProxy({ routes: { 'plain.test': plain.port, 'secure.test': secure.port } });
  caFile = join(tempDataDir(), 'ca.pem');
  writeFileSync(caFile, proxy.caPem);
});
afterAll(async () => {
  await proxy.close();
  await plain.close();
  await secure.close();
});

describe('basic forwarding', () => {
  it('curl: plain HTTP (absolute-form)', async () => {
    const r = await curl(['-D', '-', '--proxy', `http://127.0.0.1:${proxy.port}`, 'http://plain.test/hello']);
    expect(r.stderr).toBe('');
    const { status, body } = splitHead(r.stdout);
    expect(status).toBe(200);
    expect(body.toString()).toBe('hello');
    const ex = await proxy.waitFor((e) => e.request.url === 'http://plain.test/hello');
    expect(ex.response?.status).toBe(200);
    expect(ex.response?.body.bytes.toString()).toBe('hello');
    expect(headerValue(ex.response!.headers, 'X-Origin')).toBe('yes');
  });

  it('curl: HTTPS via CONNECT, verified against the proxy CA', async () => {
    const r = await curl(['-D', '-', '--proxy', `http://127.0.0.1:${proxy.port}`, '--cacert', caFile, 'https://secure.test/hello']);
    expect(r.stderr).toBe('');
    const { status, body } = splitHead(r.stdout);
    expect(status).toBe(200);
    expect(body.toString()).toBe('hello');
    const ex = await proxy.waitFor((e) => e.request.url === 'https://secure.test/hello');
    expect(ex.tls).toMatchObject({ intercepted: true, sni: 'secure.test' });
    expect(ex.client.address).toBe('127.0.0.1');
  });

  it('node https over CONNECT keeps one tunnel for several requests', async () => {
    const agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
    for (let i = 0; i < 3; i++) {
      const r = await request(https, { host: 'secure.test', port: 443, path: '/hello', agent });
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('hello');
    }
    expect(agent.tunnels).toBe(1);
    agent.destroy();
  });

  it('node http absolute-form', async () => {
    const r = await httpViaProxy(proxy.port, 'http://plain.test/hello');
    expect(r.status).toBe(200);
  });
});
