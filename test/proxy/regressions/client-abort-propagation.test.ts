// Defect: aborting the client did not abort the upstream transfer (~2 GB kept flowing). Now the
// upstream request is destroyed as soon as the client goes away.
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
let origin: Origin;
let upstreamClosed: Promise<number>;
beforeAll(async () => {
  let markClosed!: (bytes: number) => void;
  upstreamClosed = new Promise((r) => (markClosed = r));
  origin = await startOrigin({
    routes: {
      '/endless': (_req, res) => {
        let sent = 0;
        const chunk = Buffer.alloc(64 * 1024, 1);
        const pump = (): void => {
          for (;;) {
            if (res.destroyed) return;
            sent += chunk.length;
            if (!res.write(chunk)) return;
          }
        };
        res.on('drain', pump);
        res.once('close', () => markClosed(sent));
        pump();
      },
    },
  });
  proxy = await startTestProxy({ routes: { 'endless.test': origin.port } });
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

it('destroys the upstream transfer when the client aborts', async () => {
  await new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: proxy.port, path: 'http://endless.test/endless', headers: { host: 'endless.test' }, agent: false }, (res) => {
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (got > 1024 * 1024) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', () => undefined);
  });
  const sent = await Promise.race([upstreamClosed, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
  expect(sent).toBeGreaterThan(0);
  expect(sent).toBeLessThan(64 * 1024 * 1024);
  const ex = await proxy.waitFor((e) => e.request.host === 'endless.test');
  expect(ex.error?.code).toBe('LW_CLIENT_ABORT');
});
