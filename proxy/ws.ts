/**
 * WebSocket relaying on top of the library's ws/wss servers, with its defects fixed:
 * - the subprotocol the client negotiated is now requested upstream (1.1.0 dropped it, so the
 *   client "agreed" on a protocol the server never saw);
 * - an upstream that fails leaves the client stuck in CLOSING (close(1006) throws): we close the
 *   client with 1014 (bad gateway), or terminate it;
 * - the upgrade is gated and policy-checked before the 101 (verifyClient), not after;
 * - every message, both directions, becomes one Exchange of kind 'websocket'.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { ERR, type ErrorCode } from '../core/errors.js';
import { pairRawHeaders, type AppliedVerdict, type Exchange, type Peer, type RawHeaders, type RequestPart } from '../core/exchange.js';
import { formatAuthority } from './connect-target.js';
import { peerOf, tunnelOf, type EngineContext } from './engine-context.js';
import { classify, messageOf } from './error-codes.js';
import type { WsMessage, WsMessageDecision } from '../core/gate.js';
import { runGate } from './gate-run.js';
import { forwardableHeaders } from './headers.js';
import type { LibWsCtx } from './lib-types.js';
import { targetOf } from './target.js';
import { captureOf } from './tee.js';
import { LISTENER, simpleExchange } from './to-exchange.js';
import { EMPTY_BODY } from '../core/exchange.js';

interface WsPlan {
  readonly connectionId: number;
  readonly startedAt: number;
  readonly client: Peer;
  readonly request: Omit<RequestPart, 'body'>;
  readonly dialPort: number;
  readonly headers: RawHeaders;
  readonly applied?: AppliedVerdict;
  readonly onMessage?: (m: WsMessage) => WsMessageDecision;
  readonly sni?: string;
  readonly isSSL: boolean;
  /** Which listener accepted the connection (proxy, transparent-https, transparent-http). */
  readonly listener?: string;
  opened: boolean;
  failed: boolean;
}

type VerifyDone = (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function closeWith(ws: WebSocket | undefined, code: number, reason: Buffer | string): void {
  if (!ws) return;
  try {
    if (ws.readyState === WebSocket.CONNECTING) return ws.terminate();
    if (ws.readyState !== WebSocket.OPEN) return;
    // The library pauses the client socket until upstream opens; without resuming, the client's
    // close reply is never read and the close handshake hangs for ws's 30 s close timeout.
    (ws as unknown as { _socket?: { resume(): void } })._socket?.resume();
    const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason);
    if (validCloseCode(code)) ws.close(code, r.length <= 123 ? r : undefined);
    else ws.close();
  } catch {
    ws.terminate();
  }
}

export function createWsRelay(ec: EngineContext) {
  const plans = new WeakMap<IncomingMessage, WsPlan>();
  const live = new Set<LibWsCtx>();
  let connections = 0;

  const record = (plan: WsPlan, fromServer: boolean, data: Buffer, binary: boolean, applied = plan.applied): void => {
    const now = Date.now();
    const ex: Exchange = {
      id: ec.nextId(),
      kind: 'websocket',
      listener: plan.listener ?? LISTENER,
      startedAt: now,
      endedAt: now,
      client: plan.client,
      request: { ...plan.request, body: EMPTY_BODY },
      ...(plan.isSSL ? { tls: { intercepted: true, ...(plan.sni ? { sni: plan.sni } : {}) } } : {}),
      ...(applied ? { applied } : {}),
      websocket: { connectionId: plan.connectionId, direction: fromServer ? 'receive' : 'send', binary, data: captureOf(data, ec.captureLimit) },
    };
    ec.recorder.emit(ex);
  };

  const refuse = (plan: Omit<WsPlan, 'opened' | 'failed'>, done: VerifyDone, status: number, code: ErrorCode, message: string, applied?: AppliedVerdict): void => {
    done(false, status, STATUS_CODES[status], { 'X-Leakwatch-Error': code });
    ec.recorder.emit(simpleExchange({ id: ec.nextId(), kind: 'http', startedAt: plan.startedAt, client: plan.client, request: plan.request, status, statusMessage: STATUS_CODES[status] ?? '', error: { code, message }, ...(applied ? { applied } : {}), ...(plan.listener ? { listener: plan.listener } : {}) }));
  };

  /** ws's verifyClient: runs before the 101, so refusals are real HTTP statuses. */
  const verifyClient = (isSSL: boolean) => (info: { req: IncomingMessage }, done: VerifyDone): void => {
    const req = info.req;
    const tunnel = tunnelOf(req.socket);
    if (tunnel) tunnel.requests++;
    const result = targetOf(req.url ?? '', req.headers.host, tunnel, isSSL);
    const t = result.ok ? result.target : undefined;
    const scheme = isSSL ? 'wss' : 'ws';
    const url = t ? `${scheme}${t.url.slice(t.scheme.length)}` : (req.url ?? '');
    const base = {
      connectionId: ++connections,
      startedAt: Date.now(),
      client: tunnel?.client ?? peerOf(req.socket),
      request: { method: req.method ?? 'GET', url, scheme, host: t?.host ?? '', port: t?.port ?? 0, path: t?.path ?? '', httpVersion: req.httpVersion, headers: pairRawHeaders(req.rawHeaders) } as const,
      dialPort: t ? ec.upstream.dialTarget(t.host, t.port).port : 0,
      headers: pairRawHeaders(req.rawHeaders),
      isSSL,
      ...(tunnel?.sni ? { sni: tunnel.sni } : {}),
      ...(tunnel?.listener ? { listener: tunnel.listener } : {}),
    };
    if (!tunnel && ec.allowClient && !ec.allowClient(base.client.address)) return refuse(base, done, 403, ERR.CLIENT_DENIED, 'client not allowed');
    if (!result.ok || !t) return refuse(base, done, result.ok ? 400 : result.status, result.ok ? ERR.BAD_TARGET : result.code, result.ok ? 'bad target' : result.message);
    if (ec.loopGuard.isForbidden(ec.upstream.dialTarget(t.host, t.port).host, base.dialPort)) return refuse(base, done, 508, ERR.LOOP, 'refusing to proxy to this proxy');
    const head = { method: base.request.method, url, scheme, host: t.host, port: t.port, path: t.path, headers: base.headers, client: base.client } as const;
    runGate(
      ec.gate,
      head,
      (d) => {
        if (d.type === 'respond') return refuse(base, done, d.status, ERR.BLOCKED, 'answered by the gate', d.applied);
        if (d.type === 'close') {
          req.socket.destroy();
          return refuse(base, done, 403, ERR.BLOCKED, 'closed by the gate', d.applied);
        }
        plans.set(req, { ...base, headers: d.headers ?? base.headers, ...(d.applied ? { applied: d.applied } : {}), ...(d.onMessage ? { onMessage: d.onMessage } : {}), opened: false, failed: false });
        done(true);
      },
      () => refuse(base, done, 502, ERR.INTERNAL, 'gate failed'),
    );
  };

  const failUpstream = (ctx: LibWsCtx, plan: WsPlan | undefined, err: unknown): void => {
    closeWith(ctx.clientToProxyWebSocket, 1014, 'upstream unavailable');
    if (!plan || plan.opened || plan.failed) return;
    plan.failed = true;
    ec.recorder.emit(simpleExchange({ id: ec.nextId(), kind: 'http', startedAt: plan.startedAt, client: plan.client, request: plan.request, error: { code: classify('PROXY_TO_SERVER_WEBSOCKET', err), message: messageOf(err) }, ...(plan.listener ? { listener: plan.listener } : {}) }));
  };

  const planOf = (ctx: LibWsCtx): WsPlan | undefined => {
    const req = ctx.clientToProxyWebSocket.upgradeReq;
    return req ? plans.get(req) : undefined;
  };

  return {
    verifyClient,
    /** Global onWebSocketConnection: points the library's upstream socket at the real target. */
    onConnection(ctx: LibWsCtx, cb: (err?: Error | null) => void): void {
      const plan = planOf(ctx);
      const opts = ctx.proxyToServerWebSocketOptions;
      if (!plan || !opts) return void ctx.clientToProxyWebSocket.terminate();
      live.add(ctx);
      ctx.clientToProxyWebSocket.once('close', () => live.delete(ctx));
      const headers: Record<string, string> = {};
      for (const [k, v] of forwardableHeaders(plan.headers)) {
        const lower = k.toLowerCase();
        if (lower.startsWith('sec-websocket-')) continue;
        headers[lower] = headers[lower] === undefined ? v : `${headers[lower]}, ${v}`;
      }
      const scheme = plan.isSSL ? 'wss' : 'ws';
      opts.url = `${scheme}://${formatAuthority(plan.request.host, plan.dialPort)}${plan.request.path}`;
      opts.headers = headers;
      opts.agent = plan.isSSL ? ec.upstream.httpsAgent : ec.upstream.httpAgent;
      opts.handshakeTimeout = ec.idleTimeoutMs;
      const protocol = ctx.clientToProxyWebSocket.protocol;
      if (protocol) opts.protocols = [protocol];
      try {
        cb();
      } catch (err: unknown) {
        return failUpstream(ctx, plan, err);
      }
      ctx.proxyToServerWebSocket?.once('open', () => (plan.opened = true));
    },
    /** Replaces _onWebSocketFrame: records messages, forwards only to an open peer. */
    frame(ctx: LibWsCtx, type: string, fromServer: boolean, data: unknown, flags: unknown): void {
      const dest = fromServer ? ctx.clientToProxyWebSocket : ctx.proxyToServerWebSocket;
      let buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data as Buffer[]) : Buffer.from(data as ArrayBuffer);
      const plan = planOf(ctx);
      // The gate's per-message hook (enforcement): it may rewrite or drop; a throw drops (fail closed).
      let md: WsMessageDecision | undefined;
      if (type === 'message' && plan?.onMessage) {
        try {
          md = plan.onMessage({ data: buf, binary: flags === true, fromServer });
        } catch (err: unknown) {
          md = { type: 'drop', applied: { verdict: 'block', ruleId: plan.applied?.ruleId ?? null, detail: `message hook failed: ${messageOf(err)}` } };
        }
      }
      if (type === 'message' && plan) record(plan, fromServer, buf, flags === true, md?.applied ?? plan.applied);
      if (md?.type === 'drop') return;
      if (md?.data) buf = md.data;
      if (!dest) return;
      const send = (): void => {
        if (dest.readyState !== WebSocket.OPEN) return;
        if (type === 'message') dest.send(buf, { binary: flags === true });
        else if (type === 'ping') dest.ping(buf);
        else if (type === 'pong') dest.pong(buf);
      };
      if (dest.readyState === WebSocket.CONNECTING) dest.once('open', send);
      else send();
    },
    /** Replaces _onWebSocketClose: mirrors the close with a valid code (1006 used to throw). */
    close(ctx: LibWsCtx, closedByServer: boolean, code: number, reason: Buffer): void {
      if (ctx.closedByServer || ctx.closedByClient) return;
      ctx.closedByServer = closedByServer;
      ctx.closedByClient = !closedByServer;
      if (closedByServer) {
        const plan = planOf(ctx);
        if (plan && !plan.opened) return failUpstream(ctx, plan, new Error(`upstream closed (${code})`));
        return closeWith(ctx.clientToProxyWebSocket, code === 1006 ? 1014 : code, reason);
      }
      closeWith(ctx.proxyToServerWebSocket, code, reason);
    },
    /** Replaces _onWebSocketError: nothing printed; the other side is closed promptly. */
    error(ctx: LibWsCtx, err: unknown): void {
      ec.log.debug({ err: messageOf(err) }, 'websocket error');
      const up = ctx.proxyToServerWebSocket;
      const plan = planOf(ctx);
      if (!up || up.readyState !== WebSocket.OPEN) return failUpstream(ctx, plan, err);
      if (ctx.clientToProxyWebSocket.readyState !== WebSocket.OPEN) up.terminate();
    },
    closeAll(): void {
      for (const ctx of live) {
        ctx.clientToProxyWebSocket.terminate();
        ctx.proxyToServerWebSocket?.terminate();
      }
      live.clear();
    },
  };
}

export type WsRelay = ReturnType<typeof createWsRelay>;
