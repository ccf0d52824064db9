/**
 * A TCP dial to a tunnel's origin before the client is told "200 Connection Established". A
 * refused, unreachable or unresolvable origin then refuses the CONNECT itself (502, 504 on a
 * connect timeout), which browsers show as ERR_TUNNEL_CONNECTION_FAILED, instead of a tunnel that
 * opens and then carries a 502. The same checks as every other upstream socket apply: names
 * resolve through the guarded lookup (pivots), and the connected peer is checked for pivots and
 * loops before the socket is used.
 */
import net from 'node:net';
import { ERR, type ErrorCode } from '../core/errors.js';
import type { HostPort } from './connect-target.js';
import type { EngineContext } from './engine-context.js';
import { classify, messageOf } from './error-codes.js';

export interface DialFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Calls back once: with an open socket (no timeout, no listeners of ours left), or why not. */
export function dialTunnelOrigin(ec: EngineContext, t: HostPort, done: (socket: net.Socket | undefined, failure?: DialFailure) => void): net.Socket {
  const target = ec.upstream.dialTarget(t.host, t.port);
  const socket = net.connect({ host: target.host, port: target.port, lookup: ec.upstream.lookup });
  let failure: DialFailure | undefined;
  let settled = false;
  const fail = (f: DialFailure): void => {
    failure ??= f;
    socket.destroy();
  };
  const onTimeout = (): void => fail({ code: ERR.UPSTREAM_TIMEOUT, message: `could not connect upstream within ${ec.connectTimeoutMs} ms` });
  const onError = (err: unknown): void => {
    failure ??= { code: classify('PROXY_TO_SERVER', err), message: messageOf(err) };
  };
  const onClose = (): void => {
    if (settled) return;
    settled = true;
    done(undefined, failure ?? { code: ERR.UPSTREAM_RESET, message: 'upstream closed' });
  };
  socket.setTimeout(ec.connectTimeoutMs, onTimeout);
  socket.on('error', onError);
  socket.once('close', onClose);
  socket.once('connect', () => {
    const address = socket.remoteAddress ?? '';
    const port = socket.remotePort ?? 0;
    if (!ec.upstream.policy.isMapped(t.host) && ec.upstream.policy.forbidsAddress(address)) return fail({ code: ERR.TARGET_FORBIDDEN, message: `upstream ${t.host} (${address}) is a loopback, link-local or unspecified address` });
    if (ec.loopGuard.isForbidden(address, port)) return fail({ code: ERR.LOOP, message: 'upstream is this proxy' });
    settled = true;
    socket.setTimeout(0);
    socket.off('timeout', onTimeout);
    socket.off('error', onError);
    socket.off('close', onClose);
    done(socket);
  });
  return socket;
}
