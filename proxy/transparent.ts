/**
 * Transparent listeners: `--transparent-https-port` and `--transparent-http-port`.
 * Clients sent here by leakwatch's DNS server (phones that ignore proxy settings, Synapse's
 * identity-server calls) connect as if we were the real host: raw TLS or plain HTTP, no CONNECT.
 * These listeners only accept; every socket is handed to the proxy engine (engine.acceptTls /
 * acceptHttp), which routes by SNI or Host and runs the very same pipeline as the proxy port.
 */
import net, { type Socket } from 'node:net';
import type { Logger } from '../core/log.js';
import { DEFAULT_MAX_CONNECTIONS } from './client-limits.js';
import type { ProxyEngine } from './engine.js';

export type TransparentKind = 'https' | 'http';

export interface TransparentListenerOptions {
  readonly kind: TransparentKind;
  readonly host: string;
  readonly port: number;
  readonly engine: Pick<ProxyEngine, 'acceptTls' | 'acceptHttp'>;
  readonly log: Logger;
  /** The port clients believe they reach, dialled upstream (default 443 / 80). */
  readonly upstreamPort?: number;
  /** Connections at once (--max-connections); default DEFAULT_MAX_CONNECTIONS. */
  readonly maxConnections?: number;
}

export interface TransparentListener {
  readonly kind: TransparentKind;
  readonly listener: string;
  readonly port: number;
  /** Stops accepting and destroys sockets the engine has not finished with. */
  close(): Promise<void>;
}

export async function startTransparentListener(opts: TransparentListenerOptions): Promise<TransparentListener> {
  const listener = `transparent-${opts.kind}`;
  const accept = { listener, upstreamPort: opts.upstreamPort ?? (opts.kind === 'https' ? 443 : 80) };
  const sockets = new Set<Socket>();
  const max = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const server = net.createServer((socket) => {
    // The proxy port's rule (client-limits.ts): at the bound the oldest connection that has not
    // sent a byte yet makes room; when every one is in use, the new one is refused. Idle sockets
    // are also bounded in time: the engine closes one that sends no ClientHello / request head
    // within --headers-timeout.
    if (sockets.size >= max) {
      let evicted = false;
      for (const old of sockets) {
        if (old.bytesRead === 0) {
          old.destroy();
          sockets.delete(old);
          evicted = true;
          break;
        }
      }
      if (!evicted) return void socket.destroy();
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    try {
      if (opts.kind === 'https') opts.engine.acceptTls(socket, accept);
      else opts.engine.acceptHttp(socket, accept);
    } catch (err: unknown) {
      opts.log.error({ listener, err: (err as Error).message }, 'transparent accept failed');
      socket.destroy();
    }
  });
  server.on('error', (err) => opts.log.warn({ listener, err: err.message }, 'transparent listener error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  opts.log.info({ listener, host: opts.host, port }, 'transparent listener ready');
  let closed: Promise<void> | undefined;
  return {
    kind: opts.kind,
    listener,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
