/**
 * --passthrough hosts: tunnelled byte for byte, never decrypted (pinned apps, non-HTTP). We dial
 * first and only then answer 200, so a dead upstream gets a real 502/504 instead of a tunnel that
 * closes at once. One Exchange (CONNECT, tls.intercepted=false, no bodies) when the tunnel closes.
 */
import type { Duplex } from 'node:stream';
import { ERR, type ErrorCode } from '../core/errors.js';
import { hostSet } from '../core/hosts.js';
import type { HostPort } from './connect-target.js';
import { connectRequestPart, refuseConnect, type ConnectStart } from './connect.js';
import type { EngineContext } from './engine-context.js';
import { dialTunnelOrigin } from './dial.js';
import { classify, messageOf, statusFor, statusText } from './error-codes.js';
import { runGate } from './gate-run.js';
import { simpleExchange } from './to-exchange.js';

/** Exact host names, or `*.suffix` (any name below suffix): core/hosts.ts's host set. */
export const passthroughMatcher = hostSet;

export function openPassthrough(ec: EngineContext, socket: Duplex, head: Buffer, s: ConnectStart, t: HostPort): void {
  const head0 = { method: 'CONNECT', url: `https://${connectRequestPart(t, '').url}`, scheme: 'https' as const, host: t.host, port: t.port, path: '', headers: [], client: s.client };
  runGate(
    ec.gate,
    head0,
    (d) => {
      if (d.type === 'forward') return dial(ec, socket, head, s, t);
      if (d.type === 'close') {
        socket.destroy();
        return ec.recorder.emit(simpleExchange({ id: s.id, kind: 'http', startedAt: s.startedAt, client: s.client, request: connectRequestPart(t, ''), decision: d.applied, error: { code: ERR.BLOCKED, message: 'closed by the gate' }, tls: { intercepted: false } }));
      }
      refuseConnect(ec, socket, s, t, d.status, 'Blocked', ERR.BLOCKED, 'refused by the gate');
    },
    () => refuseConnect(ec, socket, s, t, 502, 'Bad Gateway', ERR.INTERNAL, 'gate failed'),
  );
}

function dial(ec: EngineContext, socket: Duplex, head: Buffer, s: ConnectStart, t: HostPort): void {
  let error: { code: ErrorCode; message: string } | undefined;
  let up = 0;
  let down = 0;
  ec.active++;
  const pending = dialTunnelOrigin(ec, t, (upstream, failure) => {
    socket.off('close', abandon);
    if (!upstream) {
      ec.active--;
      const code = failure?.code ?? ERR.UPSTREAM_RESET;
      return refuseConnect(ec, socket, s, t, statusFor(code), statusText(code), code, failure?.message ?? 'upstream closed');
    }
    if (socket.destroyed) {
      ec.active--;
      return void upstream.destroy();
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    socket.on('data', (c: Buffer) => (up += c.length));
    upstream.on('data', (c: Buffer) => (down += c.length));
    socket.pipe(upstream);
    upstream.pipe(socket);
    upstream.on('error', (err: unknown) => {
      error ??= { code: classify('PROXY_TO_SERVER', err), message: messageOf(err) };
    });
    socket.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      ec.active--;
      socket.destroy();
      ec.recorder.emit(
        simpleExchange({ id: s.id, kind: 'http', startedAt: s.startedAt, client: s.client, request: connectRequestPart(t, ''), status: 200, statusMessage: 'Connection Established', tls: { intercepted: false }, ...(error ? { error } : {}), meta: { bytesUp: up, bytesDown: down } }),
      );
    });
  });
  // A client that leaves while we dial: the dial is dropped (its failure is then recorded as such).
  const abandon = (): void => void pending.destroy();
  socket.once('close', abandon);
  socket.on('error', (err: unknown) => {
    error ??= { code: ERR.CLIENT_ABORT, message: messageOf(err) };
  });
}
