/**
 * startDashboard: one HTTP server for the UI, the API, the stream, /metrics and the setup files.
 * Middleware order matters: Host check first (rebinding), then security headers, the Origin guard
 * for state-changing methods, the start-up link, public setup routes, and last the token-guarded
 * API, stream and metrics.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { buildAccessPolicy, reachableNames, type AccessPolicy } from './access.js';
import { apiRouter } from './api.js';
import { hostGuard, requireToken, securityHeaders, tokenLink, unsafeMethodGuard } from './auth.js';
import { StreamHub } from './hub.js';
import { renderMetrics } from './metrics.js';
import { runtimeStats } from '../core/runtime-stats.js';
import { enforcementRouter, NO_ENFORCEMENT } from './enforcement.js';
import { BadRequest } from './params.js';
import { setupRouter } from './setup.js';
import { contentSecurityPolicy, staticSite } from './static.js';
import { createFront } from './tls-front.js';
import { attachStream } from './stream.js';
import type { DashboardOptions } from './types.js';

export interface RunningDashboard {
  url: string;
  port: number;
  hub: StreamHub;
  close(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const hub = new StreamHub(opts.stream);
  const secure = opts.tls !== undefined;
  let policy: AccessPolicy = buildAccessPolicy(opts.host, opts.port, opts.token, secure);
  const policyRef = (): AccessPolicy => policy;
  let boundPort = opts.port;

  const site = staticSite();
  const csp = contentSecurityPolicy(site.importMapHash);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(hostGuard(policyRef));
  app.use(securityHeaders(() => csp));
  app.use(unsafeMethodGuard(policyRef));
  app.get('/', tokenLink(policyRef));
  app.use(site.router);
  app.use(setupRouter({ ca: opts.ca, proxy: opts.proxy, dashboard: () => ({ host: opts.host, port: boundPort, secure }) }));

  const server: Server = createServer(app);
  // Listening, the client policy and TLS are the front's (tls-front.ts); `server` only speaks HTTP.
  const names = (): ReadonlySet<string> => new Set(reachableNames(opts.host).map((n) => n.replace(/^\[|\]$/g, '')));
  const front = createFront({ http: server, names, log: opts.log, ...(opts.allowClient ? { allowClient: opts.allowClient } : {}), ...(opts.tls ? { tls: opts.tls } : {}) });
  const stream = attachStream(server, {
    hub,
    data: opts.data,
    policy: policyRef,
    log: opts.log,
    limits: opts.stream ?? {},
  });
  const guard = requireToken(policyRef);
  const enforcement = opts.enforcement ?? NO_ENFORCEMENT;
  app.use('/api', guard, enforcementRouter(enforcement));
  const unsubscribeHolds = enforcement.subscribeHolds((e) => stream.broadcast(e));
  app.use('/api', guard, apiRouter({ data: opts.data, hub, rules: opts.rules, health: opts.health, streamStats: stream.stats,
    ...(opts.report ? { report: opts.report } : {}), ...(opts.purge ? { purge: opts.purge } : {}) }));
  // The event-loop and GC monitors start with the dashboard, so the first scrape has a window to read.
  runtimeStats();
  app.get('/metrics', guard, (_req, res) => {
    const body = renderMetrics({ counters: hub.counters, recorder: opts.data.recorderStats(), health: opts.health(), stream: stream.stats(), runtime: runtimeStats() });
    res.type('text/plain; version=0.0.4; charset=utf-8').send(body);
  });
  app.use((_req, res) => void res.status(404).type('text/plain').send('not found\n'));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequest) return void res.status(400).json({ error: err.message });
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return void res.status(status).json({ error: 'bad request' });
    opts.log.error({ err, path: req.path }, 'dashboard: request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  });

  await new Promise<void>((resolve, reject) => {
    front.server.once('error', reject);
    front.server.listen(opts.port, opts.host, () => {
      front.server.off('error', reject);
      resolve();
    });
  });
  front.server.on('error', (err) => opts.log.warn({ err: err.message }, 'dashboard listener error'));
  boundPort = (front.server.address() as AddressInfo).port;
  policy = buildAccessPolicy(opts.host, boundPort, opts.token, secure);
  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `${secure ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${boundPort}`;
  opts.log.info({ url }, 'dashboard listening');

  return {
    url,
    port: boundPort,
    hub,
    async close() {
      unsubscribeHolds();
      stream.close();
      hub.close();
      server.closeAllConnections();
      front.destroyAll();
      server.close(() => undefined); // never listened: this only stops its connection checks
      await new Promise<void>((resolve) => front.server.close(() => resolve()));
    },
  };
}
