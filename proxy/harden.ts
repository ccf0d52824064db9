/**
 * Instance-level runtime fixes for one library Proxy, and the wiring of our handlers into it.
 * Each replaced internal names the defect it fixes. Module-level patches live in patches.ts.
 */
import http from 'node:http';
import { STATUS_CODES } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Duplex } from 'node:stream';
import { ERR } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { applyClientLimits } from './client-limits.js';
import { handleConnect } from './connect.js';
import { classify, messageOf, statusFor, tlsCause } from './error-codes.js';
import { flowOf } from './flow.js';
import { flatten, forwardableHeaders, MAX_HEADER_BYTES } from './headers.js';
import { pairRawHeaders } from '../core/exchange.js';
import type { EngineContext } from './engine-context.js';
import type { CreateServerCallback, LibCtx, LibProxy } from './lib-types.js';
import { withConsoleRouted } from './quiet-console.js';
import { handleRequest, rememberRequest, respondLocal } from './request.js';
import type { WsRelay } from './ws.js';

/**
 * The origin's response head, given to the client as received: its status line (reason phrase
 * included) and its header lines (raw names, order, duplicates not merged), minus what describes
 * the upstream hop. The library wrote Node's lower-cased, merged `headers` object with "unknown"
 * reason phrases, plus `date` and `proxy-connection`; its writeHead call is replaced, once, for this
 * response. Also dropped: the Trailer announcement (trailers are never forwarded, and a Trailer
 * header on a non-chunked response made writeHead throw and kill the process), and for HTTP/1.0
 * clients Transfer-Encoding (they get a close-delimited body; chunked framing is not theirs).
 */
function passResponseHead(req: http.IncomingMessage, res: http.ServerResponse, up: http.IncomingMessage): void {
  const http10 = req.httpVersion === '1.0';
  const headers = forwardableHeaders(pairRawHeaders(up.rawHeaders)).filter(([k]) => !(http10 && k.toLowerCase() === 'transfer-encoding'));
  res.sendDate = false;
  const original = res.writeHead;
  res.writeHead = function writeOriginHead(this: http.ServerResponse) {
    res.writeHead = original;
    return (original as (status: number, message: string, headers: string[]) => http.ServerResponse).call(this, up.statusCode ?? 502, up.statusMessage ?? '', flatten(headers));
  } as typeof res.writeHead;
}

/** ws reads these options per handshake, so they can be set on the library's server too. */
function configureWsServer(wss: WebSocketServer | undefined, ws: WsRelay, isSSL: boolean, maxPayload: number): void {
  if (!wss) return;
  // perMessageDeflate: the client's offer is accepted here, then replaced by what the origin accepted (ws.ts).
  Object.assign(wss.options, { verifyClient: ws.verifyClient(isSSL), handleProtocols: ws.chooseProtocol, autoPong: false, maxPayload, perMessageDeflate: {} });
  wss.on('headers', (lines: string[], req: http.IncomingMessage) => ws.addUpgradeHeaders(lines, req));
}

/**
 * _onError replacement. The original console.error'd full error objects (certificates included,
 * on a terminal and in logs), answered 504 with the error text as the body, and *appended* that
 * text to bodies already under way. Now: nothing printed, a 502/504 if no header was sent (naming, for a refused
 * origin certificate, why: hostname mismatch, expired, unknown issuer), otherwise the
 * client connection is destroyed so it sees a truncated response, never foreign bytes.
 */
export function makeOnError(log: Logger) {
  return (kind: string, ctx: LibCtx | null, err: unknown): void => {
    if (!ctx) return void log.debug({ kind, err: messageOf(err) }, 'proxy socket error');
    const flow = flowOf(ctx);
    const code = classify(kind, err);
    const cause = code === ERR.UPSTREAM_TLS ? tlsCause(err) : undefined;
    flow?.fail(code, cause ? `${cause}: ${messageOf(err)}` : messageOf(err));
    log.debug({ kind, code, id: flow?.init.id, err: messageOf(err) }, 'exchange failed');
    ctx.proxyToServerRequest?.destroy();
    const res = ctx.proxyToClientResponse;
    if (code === ERR.CLIENT_ABORT || res.headersSent || res.destroyed) return void res.destroy();
    const status = statusFor(code);
    const body = `${STATUS_CODES[status]}\n${cause ? `upstream TLS: ${cause}\n` : ''}`;
    respondLocal(ctx, flow, status, [['Content-Type', 'text/plain; charset=utf-8'], ['X-Leakwatch-Error', code]], Buffer.from(body));
  };
}

export function harden(lib: LibProxy, ec: Omit<EngineContext, 'outer' | 'inner'> & { outer?: http.Server; inner?: http.Server }, ws: WsRelay, onServers: (outer: http.Server, inner: http.Server) => void): void {
  const log = ec.log;
  lib._onError = makeOnError(log);
  lib._onSocketError = (description, err) => log.debug({ description, err: messageOf(err) }, 'socket error');

  // Path traversal: the default onCertificateRequired built `${sslCaDir}/keys/${hostname}.key`.
  // Our CONNECT handler never asks the library for certificates; if anything ever does, it fails
  // without a hostname ever becoming a path.
  lib.onCertificateRequired = (_hostname, cb) => cb(new Error('leakwatch: library certificate path disabled'));
  lib.onCertificateMissing = (_ctx, _files, cb) => cb(new Error('leakwatch: library certificate path disabled'));

  // forceSNI makes listen() create exactly one "HTTPS" server through _createHttpsServer. We build
  // it ourselves as a plain http.Server that never listens (no port, not reachable from outside):
  // our CONNECT handler terminates TLS and hands it decrypted sockets.
  lib._createHttpsServer = (_options: object, callback: CreateServerCallback) => {
    const outer = lib.httpServer;
    if (!outer) throw new Error('leakwatch: library created no http server');
    const inner = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES });
    // The library created the outer server with Node's 16 KiB default; read per connection.
    (outer as http.Server & { maxHeaderSize?: number }).maxHeaderSize = MAX_HEADER_BYTES;
    inner.timeout = 120_000;
    inner.keepAliveTimeout = 60_000;
    outer.keepAliveTimeout = 60_000;
    applyClientLimits(outer, inner, ec);
    inner.on('clientError', (err: unknown, socket: Duplex) => {
      const tooBig = (err as { code?: unknown } | null)?.code === 'HPE_HEADER_OVERFLOW';
      const status = tooBig ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    });
    // No automatic "100 Continue": the client's expectation goes to the origin, whose 100 (or
    // early final answer) is relayed (flow.ts).
    for (const server of [outer, inner]) server.on('checkContinue', (req, res) => server.emit('request', req, res));
    inner.on('connect', (req, socket: Duplex, head: Buffer) => lib._onHttpServerConnect(req, socket, head));
    inner.on('request', (req, res) => lib._onHttpServerRequest(true, req, res));
    outer.prependListener('request', rememberRequest);
    inner.prependListener('request', rememberRequest);
    const wss = new WebSocketServer({ server: inner });
    wss.on('connection', (socket: WebSocket & { upgradeReq?: http.IncomingMessage }, req: http.IncomingMessage) => {
      socket.upgradeReq = req;
      lib._onWebSocketServerConnect(true, socket, req);
    });
    configureWsServer(lib.wsServer, ws, false, ec.wsMaxPayload);
    configureWsServer(wss, ws, true, ec.wsMaxPayload);
    onServers(outer, inner);
    // The library's callback console.debug()s "https server started"; route it to our logger.
    withConsoleRouted(log, () => callback(0, inner as never, wss));
  };

  lib.onConnect((req, socket, head) => {
    // We never call the library's callback: its CONNECT path is the one with the defects above.
    try {
      handleConnect(ec as EngineContext, req, socket, head);
    } catch (err: unknown) {
      log.error({ err: messageOf(err) }, 'CONNECT handler failed');
      socket.destroy();
    }
  });
  lib.onRequest((ctx, cb) => {
    try {
      handleRequest(ec as EngineContext, ctx, cb);
    } catch (err: unknown) {
      lib._onError('ON_REQUEST_ERROR', ctx, Object.assign(new Error(messageOf(err)), { code: ERR.INTERNAL }));
    }
  });
  (lib as unknown as { onResponse(fn: (ctx: LibCtx, cb: () => void) => void): void }).onResponse((ctx, cb) => {
    const up = ctx.serverToProxyResponse;
    if (up) passResponseHead(ctx.clientToProxyRequest, ctx.proxyToClientResponse, up);
    cb();
  });
  // The library's relay answered 101 before asking the origin and answered pings itself; ours
  // (ws.ts) takes over once the client's handshake is done.
  lib._onWebSocketServerConnect = (isSSL, socket, req) => {
    try {
      ws.connect(isSSL, socket, req);
    } catch (err: unknown) {
      log.error({ err: messageOf(err) }, 'WebSocket relay failed');
      socket.terminate();
    }
  };
}
