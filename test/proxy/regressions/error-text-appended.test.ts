// Defect: when upstream failed mid-body, the library appended "SERVER_TO_PROXY_RESPONSE_ERROR:
// Error: aborted" to the body and ended the response normally. Now the client connection
// is destroyed: the client sees a truncated response and never foreign bytes.
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { onRequestHead, startRawOrigin, type RawOrigin } from '../../helpers/raw-origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
let reset: RawOrigin;
beforeAll(async () => {
  reset = await startRawOrigin((s) =>
    onRequestHead(s, () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'a'.repeat(1000));
      setTimeout(() => s.resetAndDestroy(), 50);
    }),
  );
  proxy = await startTestProxy({ routes: { 'reset.test': reset.port } });
});
afterAll(async () => {
  await proxy.close();
  await reset.close();
});

it('truncates instead of appending error text', async () => {
  const got = await new Promise<{ body: string; aborted: boolean }>((resolve) => {
    let body = '';
    const req = http.get({ host: '127.0.0.1', port: proxy.port, path: 'http://reset.test/', headers: { host: 'reset.test' }, agent: false }, (res) => {
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.once('end', () => resolve({ body, aborted: false }));
      res.once('error', () => resolve({ body, aborted: true }));
      res.once('aborted', () => resolve({ body, aborted: true }));
    });
    req.once('error', () => resolve({ body, aborted: true }));
  });
  expect(got.aborted).toBe(true);
  expect(got.body).toBe('a'.repeat(1000));
  const ex = await proxy.waitFor((e) => e.request.host === 'reset.test');
  expect(ex.error?.code).toBe('LW_UPSTREAM_RESET');
});
