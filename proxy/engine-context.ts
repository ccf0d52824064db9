/** The shared, resolved state every part of the engine works with (built once in engine.ts). */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Peer } from '../core/exchange.js';
import type { RequestGate } from '../core/gate.js';
import type { Logger } from '../core/log.js';
import type { LoopGuard } from './loop-guard.js';
import type { Recorder } from './recorder.js';
import type { TlsContexts } from './tls-contexts.js';
import type { Upstream } from './upstream.js';

export interface EngineContext {
  readonly log: Logger;
  readonly gate: RequestGate;
  readonly captureLimit: number;
  /** Time to open an upstream connection (TCP, and TLS for https). */
  readonly connectTimeoutMs: number;
  /** Upstream silence (waiting for the response head or the next body bytes) before we give up. */
  readonly idleTimeoutMs: number;
  /** Largest WebSocket message relayed, each way; beyond it the connection closes with 1009. */
  readonly wsMaxPayload: number;
  /** Time a client has to send a complete request head (also the wait for a tunnel's first byte). */
  readonly headersTimeoutMs: number;
  /** Client connections at once; the oldest idle one is closed to make room (client-limits.ts). */
  readonly maxConnections: number;
  /** The client policy (client-policy.ts); `listener` absent = the proxy port. */
  readonly allowClient: ((address: string, listener?: string) => boolean) | undefined;
  readonly isPassthrough: (host: string) => boolean;
  readonly nextId: () => number;
  readonly upstream: Upstream;
  readonly loopGuard: LoopGuard;
  readonly recorder: Recorder;
  readonly tlsContexts: TlsContexts;
  /** Client sockets (raw and TLS) still open, for close(). */
  readonly sockets: Set<Duplex>;
  /** The listening server clients talk to. */
  readonly outer: http.Server;
  /** The never-listening server that receives decrypted tunnel sockets. */
  readonly inner: http.Server;
  /** Exchanges and tunnels in flight. */
  active: number;
}

export interface TunnelInfo {
  readonly host: string;
  readonly port: number;
  readonly client: Peer;
  readonly sni?: string;
  readonly clientProtocol?: string;
  /** Which listener accepted the connection (absent: the proxy port). */
  readonly listener?: string;
  /** Transparent plain HTTP: no CONNECT named the target, each request's Host header does. */
  readonly routeByHost?: boolean;
  /** Requests (and upgrades) seen on this tunnel: a TLS 1.3 client that rejects our certificate
   * does so after the server side considers the handshake done, so "closed with a TLS alert and
   * never used" is the signal for a tls-failure too. */
  requests: number;
  /** A Host header value already found to name this tunnel's host (target.ts skips re-parsing it). */
  matchedHost?: string;
  /** `scheme://authority` of requests on this tunnel, built once (target.ts). */
  origin?: string;
}

const tunnels = new WeakMap<object, TunnelInfo>();

export function setTunnel(socket: object, info: TunnelInfo): void {
  tunnels.set(socket, info);
}

/** The CONNECT tunnel a request arrived on, if any (keyed by the socket the server saw). */
export function tunnelOf(socket: object | null | undefined): TunnelInfo | undefined {
  return socket ? tunnels.get(socket) : undefined;
}

export function peerOf(socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }): Peer {
  return { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
}

/** Tracks a client socket so close() can destroy whatever is left after the grace period. */
export function track(ec: EngineContext, socket: Duplex): void {
  ec.sockets.add(socket);
  socket.once('close', () => ec.sockets.delete(socket));
}
