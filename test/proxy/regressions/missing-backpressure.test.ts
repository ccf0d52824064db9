// Defect: the final filters ignored backpressure, so a slow client made the proxy read the whole
// upstream body into memory (+215 MB in 1 s). With our Writable filters the origin itself is
// held back: while the client does not read, the origin can only get a few MB out.
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

const TOTAL = 64 * 1024 * 1024;
let proxy: TestProxy;
let origin: Origin;
let written = 0;
beforeAll(async () => {
  origin = await startOrigin({
    routes: {
      '/big': (_req, res) => {
        res.writeHead(200, { 'content-length': String(TOTAL) });
        const chunk = Buffer.alloc(256 * 1024, 7);
        const pump = (): void => {
          while (written < TOTAL) {
            written += chunk.length;
            const ok = res.write(chunk);
            if (written >= TOTAL) return void res.end();
            if (!ok) return void res.once('drain', pump);
          }
        };
        pump();
      },
    },
  });
  proxy = await startTestProxy({ routes: { 'big.test': origin.port } });
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

it('holds the origin back while the client is not reading', async () => {
  let got = 0;
  const res = await new Promise<http.IncomingMessage>((resolve) =>
    http.get({ host: '127.0.0.1', port: proxy.port, path: 'http://big.test/big', headers: { host: 'big.test' }, agent: false }, resolve),
  );
  res.pause();
  await new Promise((r) => setTimeout(r, 700));
  expect(written).toBeLessThan(16 * 1024 * 1024);

  res.on('data', (c: Buffer) => (got += c.length));
  res.resume();
  await new Promise((r) => res.once('end', r));
  expect(got).toBe(TOTAL);
});
