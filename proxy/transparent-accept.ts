/**
 * Accepting sockets that arrive without a CONNECT line (transparent listeners: clients
 * sent to leakwatch by its DNS server speak TLS or HTTP to it directly). After routing they join
 * the exact path of CONNECT tunnels: TLS terminated by connect.ts's terminateTls with a certificate
 * from certs/, decrypted requests handled by the inner server, the same gate, loop guard and
 * recorder. Only the records' `listener` differs.
 *
 * - TLS: the target is the ClientHello's SNI (peeked, then handed on unconsumed); no SNI means no
 *   target, which is recorded (tls-failure, LW_CLIENT_NO_SNI) and closed.
 * - HTTP: the target is each request's Host header (target.ts, `routeByHost`).
 */
import type { Socket } from 'node:net';
import { ERR, type ErrorCode } from '../core/errors.js';
import { parseHost, type HostPort } from './connect-target.js';
import { refuseSocket } from './client-policy.js';
import { terminateTls, type ConnectStart } from './connect.js';
import { peerOf, setTunnel, track, type EngineContext } from './engine-context.js';
import { simpleExchange } from './to-exchange.js';
import { readClientHello } from './transparent-sni.js';

export interface AcceptOptions {
  /** Recorded as Exchange.listener, e.g. `transparent-https`. */
  readonly listener: string;
  /** The port the client believed it was talking to (443 / 80): the upstream port to dial. */
  readonly upstreamPort: number;
}

const HELLO_TIMEOUT_MS = 10_000;

function recordRefusal(ec: EngineContext, s: ConnectStart, port: number, host: string, code: ErrorCode, message: string, sni?: string): void {
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  ec.recorder.emit(
    simpleExchange({
      id: s.id,
      kind: 'tls-failure',
      listener: s.listener ?? 'transparent-https',
      startedAt: s.startedAt,
      client: s.client,
      request: { method: 'TLS', url: host ? authority : s.rawTarget, scheme: 'https', host, port: host ? port : 0, path: host ? authority : s.rawTarget, httpVersion: '', headers: [] },
      tls: { intercepted: true, ...(sni ? { sni } : {}) },
      error: { code, message },
    }),
  );
}

/** A raw TCP socket on a transparent TLS port: route by SNI, then intercept like a CONNECT tunnel. */
export function acceptTls(ec: EngineContext, socket: Socket, opts: AcceptOptions): void {
  const local = `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`;
  // Refused clients are counted by the policy, never recorded: a flood cannot fill the store.
  if (ec.allowClient && !ec.allowClient(socket.remoteAddress ?? '', opts.listener)) return refuseSocket(socket, false);
  const s: ConnectStart = { id: ec.nextId(), startedAt: Date.now(), client: peerOf(socket), rawTarget: local, listener: opts.listener };
  track(ec, socket);
  socket.on('error', (err: unknown) => ec.log.debug({ id: s.id, err: String(err) }, 'transparent TLS client error'));
  let buffered: Buffer = Buffer.alloc(0);
  let settled = false;
  // The same bound as a request head on the proxy port (--headers-timeout), at most 10 s.
  const helloMs = Math.min(HELLO_TIMEOUT_MS, ec.headersTimeoutMs);
  const timer = setTimeout(() => finish(() => recordRefusal(ec, s, opts.upstreamPort, '', ERR.CLIENT_TLS_REJECTED, `no ClientHello within ${helloMs} ms`)), helloMs);
  timer.unref();
  const onClose = (): void => finish(() => recordRefusal(ec, s, opts.upstreamPort, '', ERR.CLIENT_ABORT, 'client closed before a complete ClientHello'));
  /** Stops peeking; `fail` (when given) records and closes. */
  function finish(fail?: () => void): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    if (fail) {
      socket.destroy();
      fail();
    }
  }
  function onData(chunk: Buffer): void {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const hello = readClientHello(buffered);
    if (hello.state === 'more') return;
    if (hello.state === 'bad') return finish(() => recordRefusal(ec, s, opts.upstreamPort, '', ERR.BAD_TARGET, hello.reason));
    const sni = hello.sni;
    if (sni === null) {
      return finish(() => recordRefusal(ec, s, opts.upstreamPort, '', ERR.CLIENT_NO_SNI, 'the ClientHello names no server (SNI): nothing to route to'));
    }
    const name = parseHost(sni);
    if (!name || name.hostKind !== 'dns') {
      return finish(() => recordRefusal(ec, s, opts.upstreamPort, '', ERR.BAD_TARGET, `unusable SNI ${JSON.stringify(sni.slice(0, 100))}`, sni.slice(0, 253)));
    }
    const t: HostPort = { host: name.host, port: opts.upstreamPort, hostKind: 'dns' };
    const dial = ec.upstream.dialTarget(t.host, t.port);
    if (ec.loopGuard.isForbidden(dial.host, dial.port)) {
      return finish(() => recordRefusal(ec, s, t.port, t.host, ERR.LOOP, 'refusing to proxy to this proxy', sni));
    }
    const forbidden = ec.upstream.refusal(t.host);
    if (forbidden) return finish(() => recordRefusal(ec, s, t.port, t.host, ERR.TARGET_FORBIDDEN, forbidden, sni));
    finish();
    socket.pause();
    socket.unshift(buffered);
    terminateTls(ec, socket, s, t);
  }
  socket.on('data', onData);
  socket.once('close', onClose);
}

/** A raw TCP socket on a transparent HTTP port: each request is routed by its Host header. */
export function acceptHttp(ec: EngineContext, socket: Socket, opts: AcceptOptions): void {
  if (ec.allowClient && !ec.allowClient(socket.remoteAddress ?? '', opts.listener)) return refuseSocket(socket, true);
  const client = peerOf(socket);
  track(ec, socket);
  setTunnel(socket, { host: '', port: opts.upstreamPort, client, listener: opts.listener, routeByHost: true, requests: 0 });
  ec.outer.emit('connection', socket);
}
