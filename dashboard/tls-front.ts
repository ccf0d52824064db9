/**
 * The dashboard's front door: a plain TCP listener that applies the client policy to each
 * connection before a byte is read, and, beyond loopback, terminates TLS with a leaf from
 * leakwatch's own CA (phones trust it after setup), so the token never crosses the LAN in clear.
 *
 * Why not https.createServer: a client that types the dashboard's IP address sends no SNI, and
 * a machine listening on 0.0.0.0 has several addresses. Wrapping each socket ourselves lets the
 * certificate name the address the client actually dialled (`socket.localAddress`); an SNI that
 * is one of the dashboard's names gets a leaf for that name.
 */
import net, { type Server as NetServer, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import tls from 'node:tls';
import { clientAddress } from '../core/hosts.js';
import type { Logger } from '../core/log.js';

const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface FrontOptions {
  readonly http: HttpServer;
  readonly allowClient?: (address: string) => boolean;
  readonly tls?: { issue(host: string): { keyPem: string; certPem: string } };
  /** Names (no port) a browser may use for the dashboard: SNI outside them gets the address's leaf. */
  readonly names: () => ReadonlySet<string>;
  readonly log: Logger;
}

export interface Front {
  readonly server: NetServer;
  /** Destroys every socket still open. */
  destroyAll(): void;
}

/** `::ffff:192.168.1.5` -> `192.168.1.5`; a certificate names the address as clients dial it. */
function dialledAddress(socket: Socket): string {
  return clientAddress((socket.localAddress ?? '127.0.0.1').replace(/%.*$/, ''));
}

export function createFront(opts: FrontOptions): Front {
  const open = new Set<Socket>();
  // Bounded: keys are our own addresses and names, never client-chosen text.
  const contexts = new Map<string, tls.SecureContext>();
  const contextFor = (host: string): tls.SecureContext => {
    let ctx = contexts.get(host);
    if (!ctx) {
      const leaf = opts.tls!.issue(host);
      ctx = tls.createSecureContext({ key: leaf.keyPem, cert: leaf.certPem });
      contexts.set(host, ctx);
    }
    return ctx;
  };
  const sniCallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void => {
    const name = servername.toLowerCase();
    try {
      cb(null, opts.names().has(name) ? contextFor(name) : undefined);
    } catch (err: unknown) {
      cb(err as Error);
    }
  };
  const secure = (socket: Socket): void => {
    let t: tls.TLSSocket;
    try {
      t = new tls.TLSSocket(socket, { isServer: true, secureContext: contextFor(dialledAddress(socket)), SNICallback: sniCallback, ALPNProtocols: ['http/1.1'] });
    } catch (err: unknown) {
      opts.log.warn({ err: (err as Error).message }, 'dashboard: no certificate for this address');
      return void socket.destroy();
    }
    const timer = setTimeout(() => t.destroy(), HANDSHAKE_TIMEOUT_MS);
    timer.unref();
    t.on('error', () => t.destroy());
    t.once('secure', () => {
      clearTimeout(timer);
      opts.http.emit('connection', t);
    });
    t.once('close', () => {
      clearTimeout(timer);
      socket.destroy();
    });
  };
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    if (opts.allowClient && !opts.allowClient(socket.remoteAddress ?? '')) return void socket.destroy();
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (opts.tls) secure(socket);
    else opts.http.emit('connection', socket);
  });
  // The HTTP server never listens itself: start its connection tracking (headers timeout,
  // closeAllConnections) the way 'listening' would.
  server.once('listening', () => opts.http.emit('listening'));
  return { server, destroyAll: () => open.forEach((s) => s.destroy()) };
}
