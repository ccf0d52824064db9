// Defect: with an async data handler the library's final filter called end() before pending
// chunk callbacks completed: the client got 200 and an empty body. Our Writable filter runs one
// chunk at a time and ends only after all of them. Exercised with the library's own hook
// machinery: an async ctx.onResponseData handler on the real response path.
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BackpressureResponseFilter } from '../../../proxy/filters.js';
import type { LibCtx, LibProxy } from '../../../proxy/lib-types.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';

let origin: Origin;
let front: http.Server;
beforeAll(async () => {
  origin = await startOrigin({ routes: { '*': (_q, r) => { r.write('part1-'); setTimeout(() => r.end('part2'), 20); } } });
  // A minimal stand-in for the library: async data hook (callback on a later turn), like the
  // handlers that triggered the bug, feeding our filter exactly as proxy.js does.
  const lib = {
    _onResponseData: (_ctx: LibCtx, chunk: Buffer, cb: (e: Error | null, c?: Buffer) => void) => setTimeout(() => cb(null, chunk), 5),
    _onResponseEnd: (_ctx: LibCtx, cb: () => void) => setTimeout(cb, 5),
  } as unknown as LibProxy;
  front = http.createServer((req, res) => {
    http.get({ host: '127.0.0.1', port: origin.port, path: '/' }, (up) => {
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      up.pipe(new BackpressureResponseFilter(lib, { clientToProxyRequest: req, proxyToClientResponse: res, isSSL: false } as LibCtx));
    });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await origin.close();
  await new Promise((r) => front.close(r));
});

it('delivers the whole body when data handlers answer asynchronously', async () => {
  const port = (front.address() as { port: number }).port;
  const body = await new Promise<string>((resolve) =>
    http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    }),
  );
  expect(body).toBe('part1-part2');
});
