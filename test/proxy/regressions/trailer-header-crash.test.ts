// Defect: an upstream response with `Trailer:` but no chunking made writeHead throw
// ERR_HTTP_TRAILER_INVALID uncaught and the whole proxy process exited (http-mitm-proxy 1.1.0).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { httpViaProxy } from '../../helpers/connect-client.js';
import { onRequestHead, startRawOrigin, type RawOrigin } from '../../helpers/raw-origin.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
let bad: RawOrigin;
let good: Origin;
beforeAll(async () => {
  bad = await startRawOrigin((s) => onRequestHead(s, () => s.end('HTTP/1.1 200 OK\r\nTrailer: X-Checksum\r\nContent-Length: 5\r\n\r\nhello')));
  good = await startOrigin({ routes: { '*': (_q, r) => r.end('fine') } });
  proxy = await startTestProxy({ routes: { 'trailer.test': bad.port, 'good.test': good.port } });
});
afterAll(async () => {
  await proxy.close();
  await bad.close();
  await good.close();
});

it('forwards a response with a Trailer header and keeps serving', async () => {
  const r = await httpViaProxy(proxy.port, 'http://trailer.test/');
  expect(r.status).toBe(200);
  expect(r.body.toString()).toBe('hello');
  expect(r.headers['trailer']).toBeUndefined();
  const next = await httpViaProxy(proxy.port, 'http://good.test/');
  expect(next.body.toString()).toBe('fine');
});
