/**
 * 1xx answers travel end to end (CONNECT + TLS and plain HTTP): the origin's 103 Early Hints
 * reach the client before the final answer; `Expect: 100-continue` is the origin's to answer, so
 * an origin that refuses early (401) never receives the body, and one that accepts gets it after
 * its own 100.
 */
import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectAgent } from '../helpers/connect-client.js';
import { readAll, startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

let secure: Origin;
let plain: Origin;
let proxy: TestProxy;
let agent: ConnectAgent;
/** Body bytes each origin received per path. */
const received: Record<string, number> = {};

function setup(o: Origin): void {
  o.server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/reject') {
      res.writeHead(401, { 'content-type': 'text/plain', connection: 'close' });
      return void res.end('no');
    }
    res.writeContinue();
    void readAll(req).then((b) => {
      received[`${o.port}${req.url}`] = b.length;
      res.end(`got ${b.length}`);
    });
  });
}

beforeAll(async () => {
  const pki = await testPki('origin');
  const routes = {
    '/hints': (_q: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeEarlyHints({ link: '</app.css>; rel=preload; as=style' });
      setTimeout(() => res.end('final'), 100);
    },
  };
  [secure, plain] = await Promise.all([startOrigin({ tls: pki.leaf('hints.test'), routes }), startOrigin({ routes })]);
  setup(secure);
  setup(plain);
  proxy = await startTestProxy({ routes: { 'hints.test': secure.port, 'plain.test': plain.port } });
  agent = new ConnectAgent(proxy.port, { ca: proxy.caPem });
});

afterAll(async () => {
  agent?.destroy();
  await proxy?.close();
  await Promise.all([secure?.close(), plain?.close()]);
});

type Sent = { status: number; body: string; interim: Array<{ status: number; link?: string }>; bodySent: boolean };

function send(scheme: 'https' | 'http', path: string, body?: Buffer): Promise<Sent> {
  const opts =
    scheme === 'https'
      ? { mod: https, o: { host: 'hints.test', port: 443, path, agent } }
      : { mod: http, o: { host: '127.0.0.1', port: proxy.port, path: `http://plain.test:${plain.port}${path}`, agent: false, headers: { host: `plain.test:${plain.port}` } } };
  return new Promise((resolve, reject) => {
    const interim: Sent['interim'] = [];
    let bodySent = false;
    const headers = { ...((opts.o as { headers?: Record<string, string> }).headers ?? {}), ...(body ? { expect: '100-continue', 'content-length': String(body.length) } : {}) };
    const req = (opts.mod as typeof http).request({ ...opts.o, method: body ? 'POST' : 'GET', headers } as http.RequestOptions, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text, interim, bodySent }));
    });
    req.on('information', (i) => interim.push({ status: i.statusCode, ...(i.headers.link ? { link: String(i.headers.link) } : {}) }));
    req.once('error', reject);
    if (!body) return void req.end();
    req.once('continue', () => {
      bodySent = true;
      req.end(body);
    });
  });
}

describe.each(['https', 'http'] as const)('%s', (scheme) => {
  const port = (): number => (scheme === 'https' ? secure.port : plain.port);

  it('103 Early Hints reach the client before the final answer', async () => {
    const r = await send(scheme, '/hints');
    expect(r.status).toBe(200);
    expect(r.body).toBe('final');
    expect(r.interim).toEqual([{ status: 103, link: '</app.css>; rel=preload; as=style' }]);
  });

  it("Expect: 100-continue: the origin's 100, then the body", async () => {
    const r = await send(scheme, '/accept', Buffer.alloc(200_000, 1));
    expect(r.bodySent).toBe(true);
    expect(r.interim.map((i) => i.status)).toEqual([100]);
    expect(r.body).toBe('got 200000');
    expect(received[`${port()}/accept`]).toBe(200_000);
  });

  it("Expect: 100-continue: the origin's early 401, and the body never sent", async () => {
    const r = await send(scheme, '/reject', Buffer.alloc(200_000, 1));
    expect(r.status).toBe(401);
    expect(r.bodySent).toBe(false);
    expect(received[`${port()}/reject`]).toBeUndefined();
  });
});
