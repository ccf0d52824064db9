// First request to a never-seen host: CONNECT + our TLS handshake with a freshly issued leaf +
// request + response, new connection each time, 20 hosts in a row. Prints p50 (goal <= 20 ms).
import https from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectAgent, request } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-fixture.js';
import { testPki } from '../helpers/tls-fixtures.js';

const N = 20;
let proxy: TestProxy;
let origin: Origin;
beforeAll(async () => {
  const pki = await testPki('origin');
  const names = Array.from({ length: N + 1 }, (_, i) => `h${i}.fresh.test`);
  // One origin answers for every name: its TLS server gets a leaf per name (SNI contexts).
  origin = await startOrigin({ tls: pki.leaf('h0.fresh.test'), routes: { '*': (_q, r) => r.end('ok') } });
  const tlsServer = origin.server as unknown as { addContext(host: string, ctx: { key: string; cert: string }): void };
  for (const n of names) tlsServer.addContext(n, pki.leaf(n));
  proxy = await startTestProxy({ routes: Object.fromEntries(names.map((n) => [n, origin.port])) });
  // Warm up code paths (not the host): one request to h0.
  const agent = new ConnectAgent(proxy.port, { ca: proxy.caPem, keepAlive: false });
  await request(https, { host: 'h0.fresh.test', port: 443, path: '/', agent });
});
afterAll(async () => {
  await proxy.close();
  await origin.close();
});

it(`p50 of the first request to ${N} never-seen hosts`, async () => {
  const times: number[] = [];
  for (let i = 1; i <= N; i++) {
    const agent = new ConnectAgent(proxy.port, { ca: proxy.caPem, keepAlive: false });
    const t0 = performance.now();
    const r = await request(https, { host: `h${i}.fresh.test`, port: 443, path: '/', agent });
    times.push(performance.now() - t0);
    expect(r.status).toBe(200);
  }
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(N / 2)]!;
  const p90 = times[Math.floor(N * 0.9)]!;
  process.stdout.write(`new-host first request: p50 ${p50.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${times[N - 1]!.toFixed(1)} ms (n=${N})\n`);
  expect(p50).toBeLessThan(100);
});
