/**
 * Our CONNECT handler. It never hands the tunnel back to the library's own CONNECT code, which
 * turned hostnames into file paths (`CONNECT ../../x:443`), parsed `[::1]:443` as host "[",
 * answered 200 before any check, and added a loopback hop per tunnel that hid the client address.
 * Instead: strict target parsing, refusals with a real status, passthrough tunnels, and TLS
 * terminated here with a SecureContext from certs/, the decrypted socket handed to the inner
 * HTTP server (whose requests then flow through the library's request path).
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERR, type ErrorCode } from '../core/errors.js';
import type { Peer } from '../core/exchange.js';
import { parseConnectTarget, type HostPort } from './connect-target.js';
import { peerOf, setTunnel, track, type EngineContext, type TunnelInfo } from './engine-context.js';
import { dialTunnelOrigin } from './dial.js';
import { messageOf, statusFor, statusText } from './error-codes.js';
import { openPassthrough } from './passthrough.js';
import { simpleExchange } from './to-exchange.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A secured tunnel closed this soon, unused, is a client that did not trust our certificate. */
const QUICK_CLOSE_MS = 1500;

export interface ConnectStart {
  readonly id: number;
  readonly startedAt: number;
  readonly client: Peer;
  readonly rawTarget: string;
  /** Set for transparent listeners (no CONNECT): the records carry it, method TLS. */
  readonly listener?: string;
}

export function connectRequestPart(t: HostPort | undefined, raw: string) {
  const authority = t ? (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`) : raw.slice(0, 300);
  return { method: 'CONNECT', url: authority, scheme: 'https' as const, host: t?.host ?? '', port: t?.port ?? 0, path: authority, httpVersion: '1.1', headers: [] };
}

/** Writes a status line and closes the client's socket (no tunnel is opened). */
export function refuseConnect(ec: EngineContext, socket: Duplex, s: ConnectStart, t: HostPort | undefined, status: number, text: string, code: ErrorCode, message: string): void {
  if (!socket.destroyed) {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Length: 0\r\nConnection: close\r\nX-Leakwatch-Error: ${code}\r\n\r\n`);
    setTimeout(() => socket.destroy(), 1000).unref();
  }
  ec.recorder.emit(
    simpleExchange({ id: s.id, kind: 'http', startedAt: s.startedAt, client: s.client, request: connectRequestPart(t, s.rawTarget), status, statusMessage: text, error: { code, message } }),
  );
}

export function handleConnect(ec: EngineContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const s: ConnectStart = { id: ec.nextId(), startedAt: Date.now(), client: peerOf(socket as unknown as Socket), rawTarget: req.url ?? '' };
  track(ec, socket);
  const parsed = parseConnectTarget(s.rawTarget);
  if (!parsed.ok) return refuseConnect(ec, socket, s, undefined, 400, 'Bad Request', ERR.BAD_TARGET, `bad CONNECT target: ${parsed.reason}`);
  const t = parsed.target;
  const dial = ec.upstream.dialTarget(t.host, t.port);
  if (ec.loopGuard.isForbidden(dial.host, dial.port)) return refuseConnect(ec, socket, s, t, 508, 'Loop Detected', ERR.LOOP, 'refusing to proxy to this proxy');
  const forbidden = ec.upstream.refusal(t.host);
  if (forbidden) return refuseConnect(ec, socket, s, t, 403, 'Forbidden', ERR.TARGET_FORBIDDEN, forbidden);
  if (ec.isPassthrough(t.host)) return openPassthrough(ec, socket, head, s, t);

  // The origin is dialled before the 200: a dead one refuses the CONNECT itself (502/504). The
  // open socket is parked for the tunnel's first upstream connection, so it costs no extra dial.
  const pending = dialTunnelOrigin(ec, t, (upstream, failure) => {
    socket.off('close', abandon);
    if (!upstream) {
      const code = failure?.code ?? ERR.UPSTREAM_RESET;
      return refuseConnect(ec, socket, s, t, statusFor(code), statusText(code), code, failure?.message ?? 'upstream closed');
    }
    if (socket.destroyed) return void upstream.destroy();
    ec.upstream.park(t.host, dial.port, upstream, ec.headersTimeoutMs);
    // Not yet taken when the tunnel closes: nobody will use it (once taken, it belongs to the pool).
    let adopted = false;
    upstream.once('adopted', () => (adopted = true));
    socket.once('close', () => {
      if (!adopted) upstream.destroy();
    });
    openTunnel(ec, socket, head, s, t);
  });
  const abandon = (): void => void pending.destroy();
  socket.once('close', abandon);
}

function openTunnel(ec: EngineContext, socket: Duplex, head: Buffer, s: ConnectStart, t: HostPort): void {
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  const begin = (first: Buffer): void => {
    socket.pause();
    socket.unshift(first);
    if (first[0] === 0x16) return terminateTls(ec, socket, s, t);
    // Plain HTTP inside the tunnel (ws:// via CONNECT, http on odd ports): same server as absolute-form.
    setTunnel(socket, { host: t.host, port: t.port, client: s.client, requests: 0 });
    ec.outer.emit('connection', socket);
    socket.resume();
  };
  if (head.length > 0) begin(head);
  else {
    // A tunnel that never sends a byte used to stay open forever: http.Server drops its timeout
    // listener on CONNECT. It gets the headers timeout to start talking.
    const idle = setTimeout(() => socket.destroy(), ec.headersTimeoutMs);
    idle.unref();
    socket.once('close', () => clearTimeout(idle));
    socket.once('data', (first: Buffer) => {
      clearTimeout(idle);
      begin(first);
    });
  }
}

export function terminateTls(ec: EngineContext, socket: Duplex, s: ConnectStart, t: HostPort): void {
  let secureContext: tls.SecureContext;
  try {
    // Default context = the CONNECT host: clients send no SNI for IP literals.
    secureContext = ec.tlsContexts.forHost(t.host);
  } catch (err: unknown) {
    socket.destroy();
    return recordTlsFailure(ec, s, t, undefined, ERR.BAD_TARGET, messageOf(err));
  }
  // Created on the raw socket with its first bytes unshifted: TLSSocket reads what is buffered.
  const tlsSocket = new tls.TLSSocket(socket as never, {
    isServer: true,
    secureContext,
    SNICallback: ec.tlsContexts.sniCallback,
    // http/1.0 too: a client that offers only that failed the handshake ("no application protocol").
    ALPNProtocols: ['http/1.1', 'http/1.0'],
  });
  track(ec, tlsSocket);
  let secured = false;
  let failure: unknown;
  let info: TunnelInfo | undefined;
  let securedAt = 0;
  const timer = setTimeout(() => {
    failure ??= new Error('TLS handshake timed out');
    tlsSocket.destroy();
  }, Math.min(HANDSHAKE_TIMEOUT_MS, ec.headersTimeoutMs));
  timer.unref();
  tlsSocket.once('secure', () => {
    secured = true;
    securedAt = Date.now();
    clearTimeout(timer);
    const sni = (tlsSocket as tls.TLSSocket & { servername?: string | false }).servername;
    const protocol = tlsSocket.getProtocol();
    info = { host: t.host, port: t.port, client: s.client, ...(sni ? { sni } : {}), ...(protocol ? { clientProtocol: protocol } : {}), ...(s.listener ? { listener: s.listener } : {}), requests: 0 };
    setTunnel(tlsSocket, info);
    ec.inner.emit('connection', tlsSocket);
  });
  // The raw socket comes from http.Server, which allows half-open sockets: a client that gives up
  // mid-handshake only sends FIN, and without this the tunnel would stay open forever.
  tlsSocket.once('end', () => {
    if (!secured) tlsSocket.destroy();
  });
  tlsSocket.on('error', (err: unknown) => {
    if (!secured || (info?.requests === 0 && isTlsAlert(err))) failure ??= err;
    ec.log.debug({ id: s.id, host: t.host, err: messageOf(err) }, 'client TLS error');
  });
  tlsSocket.once('close', () => {
    clearTimeout(timer);
    socket.destroy();
    // A pinned app rejecting our certificate shows up here: record it, never lose it silently.
    // With TLS 1.3 (and Node clients, which verify after the handshake) there is no alert: the
    // client just closes at once without a request, so that counts as a rejection too.
    const unusedAndQuick = secured && info?.requests === 0 && (failure !== undefined || Date.now() - securedAt < QUICK_CLOSE_MS);
    if (!secured || unusedAndQuick) {
      const why = failure ? messageOf(failure) : secured ? 'client closed right after the handshake without a request (certificate not trusted?)' : 'client closed during the TLS handshake';
      recordTlsFailure(ec, s, t, tlsSocket, ERR.CLIENT_TLS_REJECTED, why);
    }
  });
}

function isTlsAlert(err: unknown): boolean {
  const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
  return /ALERT|CERTIFICATE/i.test(code) || /alert/i.test(messageOf(err));
}

function recordTlsFailure(ec: EngineContext, s: ConnectStart, t: HostPort, tlsSocket: tls.TLSSocket | undefined, code: ErrorCode, message: string): void {
  const sni = (tlsSocket as (tls.TLSSocket & { servername?: string | false }) | undefined)?.servername;
  ec.recorder.emit(
    simpleExchange({
      id: s.id,
      kind: 'tls-failure',
      startedAt: s.startedAt,
      client: s.client,
      request: { ...connectRequestPart(t, s.rawTarget), ...(s.listener ? { method: 'TLS' } : {}) },
      tls: { intercepted: true, ...(sni ? { sni } : {}) },
      ...(s.listener ? { listener: s.listener } : {}),
      error: { code, message },
    }),
  );
}
