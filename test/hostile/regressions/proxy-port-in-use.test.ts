// Defect: http-mitm-proxy never passes a listen error to its callback (its ws server swallows the
// server's 'error'), so startProxyEngine never settled on an occupied port and `leakwatch start`
// sat half-started with only the dashboard up. Fix: proxy/engine.ts rejects on the outer server's
// listen error; start.ts turns it into "--port HOST:PORT: address already in use" and closes the rest.
import net from 'node:net';
import { expect, it } from 'vitest';
import { silentLogger } from '../../../core/log.js';
import { startProxyEngine } from '../../../proxy/engine.js';
import { testPki } from '../../helpers/tls-fixtures.js';

it('startProxyEngine rejects with EADDRINUSE on an occupied port, promptly', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as net.AddressInfo).port;
  const pki = await testPki('proxy');
  const t0 = Date.now();
  const err = await startProxyEngine({ host: '127.0.0.1', port, ca: pki.ca, issuer: pki.issuer, nextId: () => 1, onExchange: () => undefined, log: silentLogger }).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e,
  );
  expect(err?.code).toBe('EADDRINUSE');
  expect(Date.now() - t0).toBeLessThan(3000);
  await new Promise<void>((r) => busy.close(() => r()));
});
