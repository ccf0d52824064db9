// Defect: no bound on client connections. Thousands of idle sockets were all kept (120 s idle
// timeout each): file descriptors and memory grew with them. Fix: proxy/client-limits.ts caps
// connections (--max-connections, default 2048) and closes the oldest idle one to make room, so a
// new client is still served; a busy connection (request in flight) is never the one evicted.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { httpViaProxy } from '../../helpers/connect-client.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../../helpers/proxy-fixture.js';

let proxy: TestProxy;
let origin: Origin;
let release: (() => void) | undefined;
beforeAll(async () => {
  origin = await startOrigin({
    routes: {
      '/hello': (_q, r) => r.end('ok'),
      '/slow': (_q, r) => void (release = () => r.end('slow-ok')),
    },
  });
  proxy = await startTestProxy({ routes: { 'plain.test': origin.port }, maxConnections: 50 });
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

it('keeps at most maxConnections, evicting idle ones, never the busy one, and serves a new client', async () => {
  // One busy connection first (the oldest): a request waiting on a slow origin.
  const slow = new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, path: 'http://plain.test/slow', agent: false, headers: { host: 'plain.test' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
  await new Promise((r) => setTimeout(r, 200));
  const idle: net.Socket[] = [];
  await Promise.all(
    Array.from({ length: 300 }, () => new Promise<void>((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1', () => resolve());
      s.on('error', () => resolve());
      idle.push(s);
    })),
  );
  const open = (): number => idle.filter((s) => !s.destroyed && s.readyState === 'open').length;
  for (let i = 0; i < 60 && open() >= 50; i++) await new Promise((r) => setTimeout(r, 50));
  expect(open()).toBeLessThan(50);
  const r = await httpViaProxy(proxy.port, 'http://plain.test/hello');
  expect(r.body.toString()).toBe('ok');
  release!();
  expect(await slow).toBe('slow-ok');
  for (const s of idle) s.destroy();
});
