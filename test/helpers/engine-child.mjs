// Runs the proxy engine from the compiled dist/ in its own process so a test can measure the
// proxy's memory alone. Parent -> child (argv[2], JSON): { routes: {name: port}, upstreamCaPem }.
// Child -> parent (IPC): { type: 'ready', port, caPem }, then { type: 'rss', rss } every 20 ms.
// Exits when the parent disconnects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../dist/', import.meta.url);
const { loadOrCreateCa } = await import(new URL('certs/ca.js', root).href);
const { createLeafIssuer } = await import(new URL('certs/leaf.js', root).href);
const { startProxyEngine } = await import(new URL('proxy/engine.js', root).href);
const { silentLogger } = await import(new URL('core/log.js', root).href);

const config = JSON.parse(process.argv[2] ?? '{}');
const dataDir = mkdtempSync(join(tmpdir(), 'lw-child-'));
const ca = await loadOrCreateCa(dataDir);
const issuer = await createLeafIssuer(ca);
const resolve = new Map(Object.entries(config.routes ?? {}).map(([name, port]) => [name, { host: '127.0.0.1', port }]));
let id = 0;
let exchanges = 0;
const engine = await startProxyEngine({
  host: '127.0.0.1',
  port: 0,
  ca,
  issuer,
  resolve,
  upstreamCaPems: config.upstreamCaPem ? [config.upstreamCaPem] : [],
  nextId: () => ++id,
  onExchange: () => void exchanges++,
  log: silentLogger,
});
process.on('error', () => undefined); // IPC EPIPE when the parent is already gone
process.send({ type: 'ready', port: engine.port, caPem: ca.certPem });
const timer = setInterval(() => {
  if (process.connected) process.send({ type: 'rss', rss: process.memoryUsage().rss, exchanges });
}, 20);
process.on('disconnect', async () => {
  clearInterval(timer);
  await engine.close(200);
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});
