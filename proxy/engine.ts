/**
 * The interception engine: http-mitm-proxy 1.1.0 for HTTP/1.1 parsing, forwarding and ws
 * relaying, with our CONNECT/TLS path, certificates from certs/, and the library's known defects
 * (crashes, leaked error text, no timeouts, console noise) fixed at runtime (patches.ts, harden.ts,
 * filters.ts, ws.ts).
 * The rest of leakwatch sees only this API and core/ types.
 */
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type http from 'node:http';
import type { CaMaterial } from '../certs/ca.js';
import type { LeafIssuer } from '../certs/leaf.js';
import type { Exchange } from '../core/exchange.js';
import { allowAll, type RequestGate } from '../core/gate.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } from './client-limits.js';
import { tunnelOf, type EngineContext } from './engine-context.js';
import { screenConnections } from './client-policy.js';
import { guardAgent } from './agent-guard.js';
import { harden } from './harden.js';
import { createLoopGuard } from './loop-guard.js';
import { newLibraryProxy, registerCaStandIn } from './patches.js';
import { passthroughMatcher } from './passthrough.js';
import { withConsoleRouted } from './quiet-console.js';
import { createRecorder } from './recorder.js';
import { shutdown } from './shutdown.js';
import { createTlsContexts } from './tls-contexts.js';
import { acceptHttp, acceptTls, type AcceptOptions } from './transparent-accept.js';
import { createUpstream } from './upstream.js';
import { resolverLookup } from './upstream-resolver.js';
import { createWsRelay } from './ws.js';

export interface ProxyEngineOptions {
  host: string;
  port: number;
  ca: CaMaterial;
  issuer: LeafIssuer;
  resolve?: ReadonlyMap<string, { host: string; port?: number }>;
  upstreamCaPems?: readonly string[];
  /** Resolve upstream names with this resolver, not the system's (which may point at us). */
  upstreamDns?: { host: string; port: number };
  passthrough?: readonly string[];
  /** `--allow-upstream` CIDRs: loopback/link-local/private ranges that may be dialled (refused otherwise). */
  allowUpstream?: readonly string[];
  allowClient?: (address: string, listener?: string) => boolean;
  forbiddenTargets?: () => ReadonlyArray<{ port: number }>;
  captureLimit?: number;
  /** Time to open an upstream connection, TLS included (default 10 s). */
  connectTimeoutMs?: number;
  /** Upstream silence before a 504 or a cut; never counts while bytes flow (default 120 s). */
  idleTimeoutMs?: number;
  /** Largest WebSocket message relayed, each way (default 16 MiB; beyond: close 1009). */
  wsMaxPayload?: number;
  /** Time a client has to send a request head (default 20 s). */
  headersTimeoutMs?: number;
  /** Client connections at once (default 2048). */
  maxConnections?: number;
  nextId: () => number;
  onExchange: (ex: Exchange) => void;
  gate?: RequestGate;
  log: Logger;
}

export interface ProxyEngine {
  readonly host: string;
  readonly port: number;
  stats(): { active: number; exchanges: number; errors: number };
  /** A socket accepted elsewhere (transparent listener) that speaks TLS without CONNECT: routed by SNI. */
  acceptTls(socket: Socket, opts: AcceptOptions): void;
  /** A socket accepted elsewhere that speaks plain HTTP in origin form: routed by Host. */
  acceptHttp(socket: Socket, opts: AcceptOptions): void;
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_CAPTURE_LIMIT = 1024 * 1024;
/** ws's own default (100 MiB, buffered whole) let four connections take ~700 MB. */
export const DEFAULT_WS_MAX_PAYLOAD = 16 * 1024 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/**
 * Long on purpose: a proxy must not be less patient than its client. Matrix /sync long-polls
 * are held 30 s by the homeserver (and clients may ask for more); SSE streams stay quiet for
 * minutes. Only silence counts, so a response that is still streaming is never cut.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export async function startProxyEngine(opts: ProxyEngineOptions): Promise<ProxyEngine> {
  const lib = newLibraryProxy();
  const upstream = createUpstream({
    connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ...(opts.resolve ? { resolve: opts.resolve } : {}),
    ...(opts.upstreamCaPems ? { upstreamCaPems: opts.upstreamCaPems } : {}),
    ...(opts.upstreamDns ? { fallbackLookup: resolverLookup(opts.upstreamDns) } : {}),
    ...(opts.allowUpstream ? { allowUpstream: opts.allowUpstream } : {}),
  });
  let listenPort = opts.port;
  const ports = (): number[] => [listenPort, ...(opts.forbiddenTargets?.() ?? []).map((t) => t.port)];
  const ec: Omit<EngineContext, 'outer' | 'inner'> & { outer?: http.Server; inner?: http.Server } = {
    log: opts.log,
    gate: opts.gate ?? allowAll,
    captureLimit: opts.captureLimit ?? DEFAULT_CAPTURE_LIMIT,
    connectTimeoutMs: opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    wsMaxPayload: opts.wsMaxPayload ?? DEFAULT_WS_MAX_PAYLOAD,
    headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    maxConnections: opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    allowClient: opts.allowClient,
    isPassthrough: passthroughMatcher(opts.passthrough ?? []),
    nextId: opts.nextId,
    upstream,
    loopGuard: createLoopGuard(opts.host, ports),
    recorder: createRecorder(opts.onExchange, opts.log),
    tlsContexts: createTlsContexts(opts.issuer),
    sockets: new Set(),
    active: 0,
  };
  guardAgent(upstream.httpAgent, ec.loopGuard, upstream.policy);
  guardAgent(upstream.httpsAgent, ec.loopGuard, upstream.policy);
  const ws = createWsRelay(ec as EngineContext);
  // The library never reports a listen error (EADDRINUSE...) to its callback (its ws server eats
  // the 'error' event): the promise hung and `leakwatch start` sat half-started with the dashboard
  // up. The outer server is created asynchronously inside listen(); catch its error here.
  let listenFailed: (err: Error) => void = () => undefined;
  harden(lib, ec, ws, (outer, inner) => {
    ec.outer = outer;
    ec.inner = inner;
    // Refused clients are turned away per connection, before a byte is parsed: counted, never recorded.
    const allowClient = opts.allowClient;
    if (allowClient) screenConnections(outer, (s) => tunnelOf(s) !== undefined || allowClient(s.remoteAddress ?? ''), true);
    const onError = (err: Error): void => listenFailed(err);
    outer.once('error', onError);
    outer.once('listening', () => outer.off('error', onError));
  });

  // The library insists on a CA dir; ours is answered by a stand-in and nothing is written there.
  const sslCaDir = join(dirname(opts.ca.certPath), '.http-mitm-proxy-unused');
  registerCaStandIn(sslCaDir, opts.ca.certPem);
  await new Promise<void>((resolve, reject) => {
    // listen() console.info()s "SNI enabled" synchronously; route it to our logger.
    withConsoleRouted(opts.log, () =>
      lib.listen(
        {
          host: opts.host,
          port: opts.port,
          sslCaDir,
          keepAlive: true,
          forceSNI: true,
          timeout: 120_000,
          httpAgent: upstream.httpAgent,
          httpsAgent: upstream.httpsAgent,
        },
        (err?: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      ),
    );
    listenFailed = (err: Error): void => {
      ec.upstream.destroy();
      reject(err);
    };
  });
  const outer = ec.outer;
  if (!outer || !ec.inner) throw new Error('leakwatch: proxy servers were not created');
  const address = outer.address();
  listenPort = typeof address === 'object' && address ? address.port : opts.port;
  opts.log.debug({ host: opts.host, port: listenPort }, 'proxy engine listening');

  let closing: Promise<void> | undefined;
  return {
    host: opts.host,
    port: listenPort,
    stats: () => ({ active: ec.active, exchanges: ec.recorder.exchanges, errors: ec.recorder.errors }),
    acceptTls: (socket, o) => (closing ? socket.destroy() : acceptTls(ec as EngineContext, socket, o)),
    acceptHttp: (socket, o) => (closing ? socket.destroy() : acceptHttp(ec as EngineContext, socket, o)),
    close(graceMs = 5000) {
      closing ??= shutdown(ec as EngineContext, lib, ws, graceMs);
      return closing;
    },
  };
}
