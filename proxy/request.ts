/**
 * Our one global onRequest hook: works out the real target, refuses what must not be proxied,
 * asks the gate, then hands the library finished upstream options. Nothing reaches upstream
 * before this calls `proceed` (the library only dials after its onRequest handlers finish).
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { ERR, type ErrorCode } from '../core/errors.js';
import { pairRawHeaders, type RawHeaders } from '../core/exchange.js';
import type { GateDecision, RequestHead } from '../core/gate.js';
import { peerOf, tunnelOf, type EngineContext } from './engine-context.js';
import { corsHeadersFor } from './cors.js';
import { messageOf } from './error-codes.js';
import { attachFlow, Flow } from './flow.js';
import { runGate } from './gate-run.js';
import { flatten, forwardableHeaders, hasHeader, isFramingHeader, MAX_HEADER_BYTES } from './headers.js';
import type { LibCtx, NodeCallback } from './lib-types.js';
import { targetOf, type RequestTarget } from './target.js';
import { httpExchange } from './to-exchange.js';

const absoluteUrls = new WeakMap<IncomingMessage, string>();

/**
 * Prepended 'request' listener: the library rewrites an absolute `http://` req.url to its path
 * (proxy.js parseHostAndPort) before our hook sees it, so those URLs are kept here. Other URLs
 * reach our hook untouched and cost nothing here (origin-form is the rule inside tunnels).
 */
export function rememberRequest(req: IncomingMessage): void {
  const url = req.url;
  if (url !== undefined && url.startsWith('http://')) absoluteUrls.set(req, url);
}

/**
 * Answers locally (gate 'respond', refusals, errors); the client's body is drained, not sent.
 * Every such answer carries the CORS headers a browser needs to show it to the page.
 */
export function respondLocal(ctx: LibCtx, flow: Flow | undefined, status: number, headers: RawHeaders, body: Buffer): void {
  const req = ctx.clientToProxyRequest;
  const res = ctx.proxyToClientResponse;
  req.resume();
  const out = headers.filter(([k]) => !isFramingHeader(k));
  out.push(...corsHeadersFor(req.method ?? 'GET', flow?.init.request.headers ?? pairRawHeaders(req.rawHeaders), out));
  out.push(['Content-Length', String(body.length)]);
  if (flow) {
    flow.localResponse = { status, statusMessage: STATUS_CODES[status] ?? '', headers: out, body };
    if (req.method !== 'HEAD') flow.responseTee.push(body);
  }
  if (res.headersSent || res.destroyed) return void res.destroy();
  res.writeHead(status, flatten(out));
  res.end(req.method === 'HEAD' ? undefined : body);
}

function refuse(ctx: LibCtx, flow: Flow, status: number, code: ErrorCode, message: string): void {
  flow.fail(code, message);
  const body = Buffer.from(`${STATUS_CODES[status] ?? 'Error'}\n`);
  respondLocal(ctx, flow, status, [['Content-Type', 'text/plain; charset=utf-8'], ['X-Leakwatch-Error', code]], body);
}

export function handleRequest(ec: EngineContext, ctx: LibCtx, proceed: NodeCallback): void {
  const req = ctx.clientToProxyRequest;
  const res = ctx.proxyToClientResponse;
  // The library calls its onRequest handlers synchronously from the server's 'request' event, so
  // this is the time the request head arrived.
  const start = { url: absoluteUrls.get(req) ?? req.url ?? '', at: Date.now() };
  const tunnel = tunnelOf(req.socket);
  if (tunnel) tunnel.requests++;
  const rawHeaders = pairRawHeaders(req.rawHeaders);
  const result = targetOf(start.url, req.headers.host, tunnel, ctx.isSSL);
  const t: RequestTarget = result.ok ? result.target : { scheme: ctx.isSSL ? 'https' : 'http', host: tunnel?.host ?? '', port: tunnel?.port ?? 0, path: start.url, url: start.url };
  const client = tunnel?.client ?? peerOf(req.socket);
  const method = req.method ?? 'GET';
  const flow = new Flow({
    id: ec.nextId(),
    startedAt: start.at,
    client,
    request: { method, url: t.url, scheme: t.scheme, host: t.host, port: t.port, path: t.path, httpVersion: req.httpVersion, headers: rawHeaders },
    ...(tunnel ? { tls: { intercepted: true, ...(tunnel.sni ? { sni: tunnel.sni } : {}), ...(tunnel.clientProtocol ? { clientProtocol: tunnel.clientProtocol } : {}) } } : {}),
    captureLimit: ec.captureLimit,
    idleTimeoutMs: ec.idleTimeoutMs,
  });
  attachFlow(ctx, flow);
  ec.active++;
  // The client socket's own idle timer (server.timeout) would cut a long-poll or a quiet stream
  // the origin is still holding: while we wait on upstream, its idle timeout governs. Only a
  // client that stops reading what we send is cut for its own silence.
  res.on('timeout', () => {
    if (flow.waitingOnClient) res.destroy();
  });
  // 'close' comes once per response: `on` spares the once-wrapper.
  res.on('close', () => {
    ec.active--;
    if (!res.writableFinished) {
      // Client abort must reach upstream (the library kept pulling ~2 GB after the client left).
      flow.fail(ERR.CLIENT_ABORT, 'client closed before the response completed');
      ctx.proxyToServerRequest?.destroy();
      ctx.serverToProxyResponse?.destroy();
    }
    if (!flow.recorded) {
      flow.recorded = true;
      ec.recorder.emit(httpExchange(flow, ctx));
    }
  });

  if (!result.ok) return refuse(ctx, flow, result.status, result.code, result.message);
  // Two Host headers: which one names the target is ambiguous (RFC 9112 3.2 asks for a 400).
  if (rawHeaders.filter(([k]) => k.toLowerCase() === 'host').length > 1) return refuse(ctx, flow, 400, ERR.BAD_TARGET, 'more than one Host header');
  const dial = ec.upstream.dialTarget(t.host, t.port);
  // A tunnel's target was checked when the tunnel opened (connect.ts, transparent-accept.ts) and
  // cannot change; only requests that name their own host need the check here. (Whatever the name,
  // agent-guard.ts still checks each upstream socket's real peer.)
  if ((!tunnel || tunnel.routeByHost) && ec.loopGuard.isForbidden(dial.host, dial.port)) return refuse(ctx, flow, 508, ERR.LOOP, 'refusing to proxy to this proxy');
  const forbidden = !tunnel || tunnel.routeByHost ? ec.upstream.refusal(t.host) : undefined;
  if (forbidden) return refuse(ctx, flow, 403, ERR.TARGET_FORBIDDEN, forbidden);

  // The body the gate asked to judge (hold): read once, then forwarded from here. `tooLarge`: it
  // went past the capture cap, so part of it is gone and it can no longer be forwarded.
  let buffered: Promise<Buffer | undefined> | undefined;
  let bufferedBody: Buffer | undefined;
  let tooLarge = false;
  const readWholeBody = (): Promise<Buffer | undefined> =>
    (buffered ??= new Promise((resolve) => {
      if (Number(req.headers['content-length']) > ec.captureLimit) return resolve(undefined);
      // The client waiting on its Expect: 100-continue gets the go-ahead from us.
      if (String(req.headers.expect ?? '').toLowerCase() === '100-continue') res.writeContinue();
      readBody(req, ec.captureLimit, (body) => {
        if (body) flow.requestTee.push(body);
        else tooLarge = true;
        resolve((bufferedBody = body));
      });
    }));
  const head: RequestHead = { method, url: t.url, scheme: t.scheme, host: t.host, port: t.port, path: t.path, headers: rawHeaders, client, readBody: readWholeBody };
  let upstreamPath = t.path;
  const forward = (headers: RawHeaders, bodyOverride?: Buffer): void => {
    if (res.destroyed) return;
    let out = forwardableHeaders(headers);
    if (bodyOverride) {
      out = out.filter(([k]) => !isFramingHeader(k) && k.toLowerCase() !== 'expect');
      out.push(['Content-Length', String(bodyOverride.length)]);
      flow.bodyOverride = bodyOverride;
    } else if (headers !== rawHeaders) {
      // A gate may replace headers, but framing must still describe the bytes the client sends.
      out = out.filter(([k]) => !isFramingHeader(k)).concat(rawHeaders.filter(([k]) => isFramingHeader(k)));
    }
    // An absolute-form target wins over the client's Host (RFC 9112 3.2.2): the request is judged
    // and recorded by its URL, so upstream must get that authority too, not a fronted name.
    if (absoluteUrls.has(req)) out = out.filter(([k]) => k.toLowerCase() !== 'host');
    if (!hasHeader(out, 'host')) out.unshift(['Host', t.url.split('/')[2]!]);
    const opts = ctx.proxyToServerRequestOptions;
    if (!opts) return refuse(ctx, flow, 502, ERR.INTERNAL, 'no upstream options');
    opts.host = t.host;
    opts.port = dial.port;
    opts.path = upstreamPath;
    opts.headers = flatten(out);
    // Always one of our agents: agent-guard.ts checks each of their sockets' peers (loops).
    opts.agent = t.scheme === 'https' ? ec.upstream.httpsAgent : ec.upstream.httpAgent;
    // The upstream idle timeout, applied by Node to the request's socket (see Flow.attachUpstream).
    opts.timeout = ec.idleTimeoutMs;
    (opts as { maxHeaderSize?: number }).maxHeaderSize = MAX_HEADER_BYTES;
    proceed();
  };

  const apply = (d: GateDecision): void => {
    if (res.destroyed) return;
    if (d.type === 'respond') {
      flow.decision = d.applied;
      return respondLocal(ctx, flow, d.status, d.headers, d.body);
    }
    if (d.type === 'close') {
      flow.decision = d.applied;
      flow.fail(ERR.BLOCKED, 'connection closed by the gate');
      req.resume();
      return void req.socket.destroy();
    }
    if (d.applied) flow.decision = d.applied;
    if (d.path !== undefined && d.path.startsWith('/')) upstreamPath = d.path;
    const headers = d.headers ?? rawHeaders;
    const rewrite = d.rewriteBody;
    if (tooLarge) return refuse(ctx, flow, 413, ERR.BLOCKED, 'request body too large to judge');
    if (!rewrite) return bufferedBody?.length ? forward(headers, bufferedBody) : forward(headers);
    // The body is needed here, before any origin is asked.
    void readWholeBody().then((body) => {
      if (res.destroyed) return;
      if (!body) {
        req.resume();
        return refuse(ctx, flow, 413, ERR.BLOCKED, 'request body too large to rewrite');
      }
      try {
        const r = rewrite(body, headers);
        forward(r.headers, r.body);
      } catch (err: unknown) {
        ec.log.error({ id: flow.init.id, err: messageOf(err) }, 'gate rewriteBody threw');
        refuse(ctx, flow, 502, ERR.INTERNAL, 'rewrite failed');
      }
    });
  };
  runGate(ec.gate, head, apply, (err) => {
    ec.log.error({ id: flow.init.id, err: messageOf(err) }, 'gate failed; not forwarding');
    if (!res.destroyed) refuse(ctx, flow, 502, ERR.INTERNAL, 'gate failed');
  });
}

/** Reads the whole body (for judging or rewriting), or calls back with undefined once it exceeds `limit`. */
function readBody(req: IncomingMessage, limit: number, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > limit) over = true;
    else chunks.push(c);
  });
  req.once('end', () => done(over ? undefined : Buffer.concat(chunks, size)));
  req.resume();
}
