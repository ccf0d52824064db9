/**
 * Bounds on what one client connection may cost:
 * - headers timeout on BOTH servers. The inner server (decrypted CONNECT tunnels) never listens,
 *   and Node only arms its headersTimeout/requestTimeout checks on 'listening', so a slowloris
 *   dribbling a request head inside a TLS tunnel was never cut (each byte reset the 120 s idle
 *   timer). The outer server's default (60 s, checked every 30 s) let one last up to 90 s.
 * - a maximum number of client connections. At the bound the oldest idle connection (no request
 *   in flight, not a tunnel or WebSocket) is closed to make room, so thousands of idle sockets
 *   can neither exhaust file descriptors nor lock out a new client; only when every connection is
 *   busy is the new one refused.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';

export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_MAX_CONNECTIONS = 2048;

export interface ClientLimits {
  readonly headersTimeoutMs: number;
  readonly maxConnections: number;
}

/** Call before the outer server listens (the checking interval is read when it starts listening). */
export function applyClientLimits(outer: http.Server, inner: http.Server, limits: ClientLimits): void {
  const checkEvery = Math.max(250, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
  for (const server of [outer, inner]) {
    server.headersTimeout = limits.headersTimeoutMs;
    // Not in @types/node 20, but a real http.Server property (read when tracking starts).
    (server as http.Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = checkEvery;
  }
  // Long uploads through a tunnel are legitimate; only the head is bounded there.
  inner.requestTimeout = 0;
  // Node sets up connection tracking (and with it the headers timeout) on 'listening'. The inner
  // server never listens: start its tracking the same way, without binding anything.
  inner.emit('listening');
  limitConnections(outer, limits.maxConnections);
}

function limitConnections(server: http.Server, max: number): void {
  const open = new Set<Socket>();
  /** Sockets with a request in flight, or taken over by CONNECT / Upgrade. */
  const busy = new Map<Socket, number>();
  const take = (s: Socket): void => void busy.set(s, (busy.get(s) ?? 0) + 1);
  const release = (s: Socket): void => {
    const n = (busy.get(s) ?? 1) - 1;
    if (n <= 0) busy.delete(s);
    else busy.set(s, n);
  };
  server.prependListener('connection', (socket: Socket) => {
    // Sockets handed over from a CONNECT tunnel (plain HTTP inside it) are already counted.
    if (open.has(socket)) return;
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
    if (open.size <= max) return;
    for (const candidate of open) {
      if (candidate === socket) break;
      if (!busy.has(candidate)) return void candidate.destroy();
    }
    socket.destroy();
  });
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const s = req.socket;
    take(s);
    res.once('close', () => release(s));
  });
  // A tunnel or WebSocket holds its socket for its whole life: never evicted as idle.
  const forever = (req: http.IncomingMessage): void => void busy.set(req.socket, Number.POSITIVE_INFINITY);
  server.prependListener('connect', forever);
  server.prependListener('upgrade', forever);
}
