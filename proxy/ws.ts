/**
 * WebSocket relaying. The library's ws/wss servers accept the client's upgrade; everything else is
 * ours, because the library answered 101 before asking the origin:
 * - the handshake is forwarded first: the client's offer (all its subprotocols, its
 *   permessage-deflate offer) goes to the origin and the client gets the origin's answer: its
 *   refusal (status, headers, body) as is, or a 101 with the origin's chosen subprotocol, its
 *   extension parameters (which the relay then speaks) and its headers (Set-Cookie included);
 * - the upgrade is gated and policy-checked before anything is dialled (verifyClient);
 * - pings and pongs are relayed, never also answered here (one pong per ping);
 * - an origin that drops the connection shows as 1006 (abnormal closure) to the client;
 * - messages are bounded (maxPayload, close 1009 beyond) and relayed with backpressure;
 * - every message, both directions, becomes one Exchange of kind 'websocket'.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import * as wsModule from 'ws';
import { WebSocket, type PerMessageDeflateOptions } from 'ws';
import { ERR, type ErrorCode } from '../core/errors.js';
import { pairRawHeaders, type Decision, type Exchange, type Peer, type RawHeaders, type RequestPart } from '../core/exchange.js';
import { formatAuthority } from './connect-target.js';
import { peerOf, tunnelOf, type EngineContext } from './engine-context.js';
import { classify, messageOf, statusFor } from './error-codes.js';
import type { WsMessage, WsMessageDecision } from '../core/gate.js';
import { runGate } from './gate-run.js';
import { forwardableHeaders, isFramingHeader } from './headers.js';
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
  readonly applied?: Decision;
  readonly onMessage?: (m: WsMessage) => WsMessageDecision;
  readonly sni?: string;
  readonly isSSL: boolean;
  /** Which listener accepted the connection (proxy, transparent-https, transparent-http). */
  readonly listener?: string;
  /** The origin's socket, open once the origin answered 101. */
  upstream?: WebSocket;
  /** The subprotocol the origin chose ('' for none). */
  protocol?: string;
  /** The origin's 101 headers, passed on to the client. */
  upgradeHeaders?: RawHeaders;
  opened: boolean;
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
    // 1006 cannot be sent: it means "closed without a close frame", which is what terminate() does.
    if (code === 1006) return ws.terminate();
    const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason);
    if (validCloseCode(code)) ws.close(code, r.length <= 123 ? r : undefined);
    else ws.close();
  } catch {
    ws.terminate();
  }
}

type ExtensionOffers = Record<string, Array<Record<string, Array<string | true>>>>;
/** ws's own Sec-WebSocket-Extensions parser (exported by the package, not declared in its types). */
const parseExtensions = (wsModule as unknown as { extension: { parse(header: string): ExtensionOffers } }).extension.parse;
const DEFLATE = 'permessage-deflate';

/**
 * The client's first permessage-deflate offer as ws client options, so the origin is offered
 * exactly what the client offered; false when the client offered none (the origin then gets no
 * offer and the client no extension). An offer ws cannot parse counts as none.
 */
export function deflateOfferOf(header: string | undefined): PerMessageDeflateOptions | false {
  if (!header) return false;
  let offer: Record<string, Array<string | true>> | undefined;
  try {
    offer = parseExtensions(header)[DEFLATE]?.[0];
  } catch {
    return false;
  }
  if (!offer) return false;
  const bits = (v: Array<string | true> | undefined): number | true | undefined => (v === undefined ? undefined : v[0] === true ? true : Number(v[0]));
  const server = bits(offer.server_max_window_bits);
  const client = bits(offer.client_max_window_bits);
  return {
    ...(offer.server_no_context_takeover ? { serverNoContextTakeover: true } : {}),
    ...(offer.client_no_context_takeover ? { clientNoContextTakeover: true } : {}),
    ...(typeof server === 'number' ? { serverMaxWindowBits: server } : {}),
    // ws offers client_max_window_bits unless told false: offer it only when the client did.
    clientMaxWindowBits: (client ?? false) as number,
  };
}

/** Bytes queued towards a slow peer before its sender is paused. */
const WS_BUFFERED_BYTES = 1024 * 1024;

/** Reads up to `limit` bytes of a body (a refusal page), then calls back; the rest is dropped. */
function readCapped(res: IncomingMessage, limit: number, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let called = false;
  const finish = (): void => {
    if (called) return;
    called = true;
    done(Buffer.concat(chunks).subarray(0, limit));
  };
  res.on('data', (c: Buffer) => {
    if (size < limit) chunks.push(c);
    size += c.length;
    if (size >= limit) finish();
  });
  res.once('end', finish);
  res.once('error', finish);
  res.once('close', finish);
}

/** The origin's refusal of the upgrade, given to the client as it came (status line, headers, body). */
function passRefusal(req: IncomingMessage, res: IncomingMessage, body: Buffer): void {
  const socket = req.socket;
  if (socket.destroyed) return;
  const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`];
  for (const [k, v] of forwardableHeaders(pairRawHeaders(res.rawHeaders))) if (!isFramingHeader(k)) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${body.length}`, 'Connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
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
      ...(applied ? { decision: applied } : {}),
      websocket: { connectionId: plan.connectionId, direction: fromServer ? 'receive' : 'send', binary, data: captureOf(data, ec.captureLimit) },
    };
    ec.recorder.emit(ex);
  };

  const refuse = (plan: Omit<WsPlan, 'opened'>, done: VerifyDone, status: number, code: ErrorCode, message: string, applied?: Decision): void => {
    done(false, status, STATUS_CODES[status], { 'X-Leakwatch-Error': code });
    ec.recorder.emit(simpleExchange({ id: ec.nextId(), kind: 'http', startedAt: plan.startedAt, client: plan.client, request: plan.request, status, statusMessage: STATUS_CODES[status] ?? '', error: { code, message }, ...(applied ? { decision: applied } : {}), ...(plan.listener ? { listener: plan.listener } : {}) }));
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
    if (!result.ok || !t) return refuse(base, done, result.ok ? 400 : result.status, result.ok ? ERR.BAD_TARGET : result.code, result.ok ? 'bad target' : result.message);
    if (ec.loopGuard.isForbidden(ec.upstream.dialTarget(t.host, t.port).host, base.dialPort)) return refuse(base, done, 508, ERR.LOOP, 'refusing to proxy to this proxy');
    const forbidden = ec.upstream.refusal(t.host);
    if (forbidden) return refuse(base, done, 403, ERR.TARGET_FORBIDDEN, forbidden);
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
        const plan: WsPlan = { ...base, headers: d.headers ?? base.headers, ...(d.applied ? { applied: d.applied } : {}), ...(d.onMessage ? { onMessage: d.onMessage } : {}), opened: false };
        plans.set(req, plan);
        dialOrigin(req, plan, done);
      },
      () => refuse(base, done, 502, ERR.INTERNAL, 'gate failed'),
    );
  };

  /** The client's offer, sent to the origin; `done` only once the origin has answered. */
  const dialOrigin = (req: IncomingMessage, plan: WsPlan, done: VerifyDone): void => {
    const headers: Record<string, string> = {};
    for (const [k, v] of forwardableHeaders(plan.headers)) {
      const lower = k.toLowerCase();
      if (lower.startsWith('sec-websocket-')) continue;
      headers[lower] = headers[lower] === undefined ? v : `${headers[lower]}, ${v}`;
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
    const scheme = plan.isSSL ? 'wss' : 'ws';
    let settled = false;
    const up = new WebSocket(`${scheme}://${formatAuthority(plan.request.host, plan.dialPort)}${plan.request.path}`, offered, {
      headers,
      agent: plan.isSSL ? ec.upstream.httpsAgent : ec.upstream.httpAgent,
      handshakeTimeout: ec.idleTimeoutMs,
      maxPayload: ec.wsMaxPayload,
      autoPong: false,
      perMessageDeflate: deflateOfferOf(req.headers['sec-websocket-extensions']),
    });
    const clientGone = (): void => {
      if (!settled) up.terminate();
    };
    req.socket.once('close', clientGone);
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      req.socket.off('close', clientGone);
      return true;
    };
    up.once('upgrade', (res: IncomingMessage) => (plan.upgradeHeaders = pairRawHeaders(res.rawHeaders)));
    up.once('open', () => {
      if (!settle()) return void up.terminate();
      plan.upstream = up;
      plan.protocol = up.protocol;
      // The handshake is an exchange of its own: its URL and headers are judged once, here, and
      // each message after it only for what the message carries.
      ec.recorder.emit(simpleExchange({ id: ec.nextId(), kind: 'http', startedAt: plan.startedAt, client: plan.client, request: plan.request, status: 101, statusMessage: STATUS_CODES[101] ?? '', ...(plan.applied ? { applied: plan.applied } : {}), ...(plan.listener ? { listener: plan.listener } : {}) }));
      done(true);
    });
    up.once('unexpected-response', (_r: unknown, res: IncomingMessage) => {
      if (!settle()) return void res.destroy();
      readCapped(res, 64 * 1024, (body) => {
        up.terminate();
        passRefusal(req, res, body);
        ec.recorder.emit(simpleExchange({ id: ec.nextId(), kind: 'http', startedAt: plan.startedAt, client: plan.client, request: plan.request, status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', ...(plan.applied ? { decision: plan.applied } : {}), ...(plan.listener ? { listener: plan.listener } : {}) }));
      });
    });
    up.on('error', (err: unknown) => {
      if (!settle()) return;
      const code = classify('PROXY_TO_SERVER_WEBSOCKET', err);
      refuse(plan, done, statusFor(code), code, messageOf(err), plan.applied);
    });
  };

  const planOf = (ctx: LibWsCtx): WsPlan | undefined => {
    const req = ctx.clientToProxyWebSocket.upgradeReq;
    return req ? plans.get(req) : undefined;
  };

  return {
    verifyClient,
    /** ws's handleProtocols: the client gets the subprotocol the origin chose, or none. */
    chooseProtocol: (_offered: Set<string>, req: IncomingMessage): string | false => plans.get(req)?.protocol || false,
    /**
     * ws's 'headers' event: the origin's 101 headers, minus what describes the hop or the handshake;
     * the extensions line is the origin's own (ws's negotiation with the client is replaced by it,
     * in `connect`), or none when the origin accepted none.
     */
    addUpgradeHeaders(lines: string[], req: IncomingMessage): void {
      const ours = lines.findIndex((l) => /^sec-websocket-extensions:/i.test(l));
      if (ours >= 0) lines.splice(ours, 1);
      for (const [k, v] of forwardableHeaders(plans.get(req)?.upgradeHeaders ?? [])) {
        const lower = k.toLowerCase();
        if (lower === 'sec-websocket-extensions') lines.push(`${k}: ${v}`);
        else if (!lower.startsWith('sec-websocket-') && !isFramingHeader(k)) lines.push(`${k}: ${v}`);
      }
    },
    /** Replaces _onWebSocketServerConnect: the client is open; relay to the origin already open. */
    connect(isSSL: boolean, client: WebSocket & { upgradeReq?: IncomingMessage }, req: IncomingMessage): void {
      client.upgradeReq = req;
      const plan = plans.get(req);
      const up = plan?.upstream;
      if (!plan || !up) return void client.terminate();
      plan.opened = true;
      adoptOriginDeflate(client, up);
      const ctx: LibWsCtx = { isSSL, clientToProxyWebSocket: client, proxyToServerWebSocket: up };
      live.add(ctx);
      client.once('close', () => live.delete(ctx));
      for (const [ws, fromServer] of [[client, false], [up, true]] as const) {
        ws.on('message', (data: unknown, isBinary: boolean) => this.frame(ctx, 'message', fromServer, data, isBinary));
        ws.on('ping', (data: Buffer) => this.frame(ctx, 'ping', fromServer, data, false));
        ws.on('pong', (data: Buffer) => this.frame(ctx, 'pong', fromServer, data, false));
        ws.on('close', (code: number, reason: Buffer) => this.close(ctx, fromServer, code, reason));
        ws.on('error', (err: unknown) => this.error(ctx, err));
      }
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
      if (dest.readyState !== WebSocket.OPEN) return;
      if (type === 'ping') return dest.ping(buf);
      if (type === 'pong') return dest.pong(buf);
      // Backpressure: a receiver slower than its sender stops the sender's socket instead of
      // letting whole messages queue here.
      const source = fromServer ? ctx.proxyToServerWebSocket : ctx.clientToProxyWebSocket;
      dest.send(buf, { binary: flags === true }, () => {
        if (source?.isPaused && dest.bufferedAmount < WS_BUFFERED_BYTES) source.resume();
      });
      if (dest.bufferedAmount >= WS_BUFFERED_BYTES) source?.pause();
    },
    /** Replaces _onWebSocketClose: mirrors the close with a valid code (1006 used to throw). */
    close(ctx: LibWsCtx, closedByServer: boolean, code: number, reason: Buffer): void {
      if (ctx.closedByServer || ctx.closedByClient) return;
      ctx.closedByServer = closedByServer;
      ctx.closedByClient = !closedByServer;
      // 1006 (the peer vanished without a close frame) is passed on the same way (closeWith).
      closeWith(closedByServer ? ctx.clientToProxyWebSocket : ctx.proxyToServerWebSocket, code, reason);
    },
    /** Nothing printed; ws closes the socket after an error and the 'close' handler mirrors it. */
    error(_ctx: LibWsCtx, err: unknown): void {
      ec.log.debug({ err: messageOf(err) }, 'websocket error');
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

interface DeflateExtension {
  params: Record<string, unknown>;
  cleanup(): void;
}

/**
 * Makes the client side speak the parameters the origin accepted (the header the client got is
 * the origin's, see addUpgradeHeaders): ws negotiated with the client on its own before the origin
 * answered. Runs before any frame is read; the receiver and sender share this extensions object.
 */
function adoptOriginDeflate(client: WebSocket, up: WebSocket): void {
  const clientSide = (client as unknown as { _extensions: Record<string, DeflateExtension | undefined> })._extensions;
  const originSide = (up as unknown as { _extensions: Record<string, DeflateExtension | undefined> })._extensions[DEFLATE];
  const ours = clientSide[DEFLATE];
  if (!ours) return;
  if (!originSide) {
    ours.cleanup();
    delete clientSide[DEFLATE];
    return;
  }
  ours.params = { ...originSide.params };
}
