/**
 * Starts the real proxy engine on 127.0.0.1:0 with a throw-away CA, trusting the 'origin' test
 * PKI upstream, and collects every Exchange. Use `resolve` to point test host names at local
 * origins. `waitFor` polls the collected exchanges (they arrive after responses complete).
 */
import type { Exchange } from '../../core/exchange.js';
import { silentLogger } from '../../core/log.js';
import { startProxyEngine, type ProxyEngine, type ProxyEngineOptions } from '../../proxy/engine.js';
import { testPki } from './tls-fixtures.js';

export interface TestProxy {
  readonly engine: ProxyEngine;
  readonly port: number;
  /** PEM of the proxy's CA, for clients (curl --cacert, tls ca). */
  readonly caPem: string;
  readonly caPath: string;
  readonly exchanges: Exchange[];
  waitFor(pred: (ex: Exchange) => boolean, timeoutMs?: number): Promise<Exchange>;
  close(): Promise<void>;
}

export type TestProxyOptions = Partial<Omit<ProxyEngineOptions, 'resolve'>> & {
  /** host name -> port on 127.0.0.1 (or a full {host, port}). */
  readonly routes?: Record<string, number | { host: string; port?: number }>;
};

let ids = 0;

export async function startTestProxy(opts: TestProxyOptions = {}): Promise<TestProxy> {
  const [proxyPki, originPki] = await Promise.all([testPki('proxy'), testPki('origin')]);
  const resolve = new Map<string, { host: string; port?: number }>();
  for (const [name, r] of Object.entries(opts.routes ?? {})) resolve.set(name, typeof r === 'number' ? { host: '127.0.0.1', port: r } : r);
  const exchanges: Exchange[] = [];
  const { routes: _routes, ...rest } = opts;
  const engine = await startProxyEngine({
    host: '127.0.0.1',
    port: 0,
    ca: proxyPki.ca,
    issuer: proxyPki.issuer,
    resolve,
    upstreamCaPems: [originPki.caPem],
    // The local origins live on loopback, which the proxy refuses by default (a user would pass
    // --allow-upstream the same way); pass `allowUpstream: []` to test the refusal itself.
    allowUpstream: ['127.0.0.0/8', '::1/128'],
    nextId: () => ++ids,
    onExchange: (ex) => void exchanges.push(ex),
    log: silentLogger,
    ...rest,
  });
  return {
    engine,
    port: engine.port,
    caPem: proxyPki.caPem,
    caPath: proxyPki.ca.certPath,
    exchanges,
    async waitFor(pred, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = exchanges.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching exchange within ${timeoutMs} ms; have: ${exchanges.map((e) => `${e.kind} ${e.request.method} ${e.request.url} ${e.error?.code ?? ''}`).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => engine.close(500),
  };
}
