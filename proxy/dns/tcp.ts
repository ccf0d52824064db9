/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by a 2-byte length. Bounded
 * connections, an idle timeout, a cap on one query's size and on queries in flight per
 * connection; a length that is absurd for a query, or a message that does not parse, closes the
 * connection.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface TcpOptions {
  readonly maxConnections: number;
  readonly idleMs: number;
  /** Largest query accepted (a one-question query is far below 512 bytes). */
  readonly maxQueryBytes: number;
  readonly maxPipelined: number;
  /** null = not a query we accept: the connection is closed. */
  readonly handle: (query: Buffer, client: { address: string; port: number }) => Promise<Buffer | null> | null;
  readonly onBad: () => void;
  /** The client policy: a refused client's connection is closed before anything is read. */
  readonly allows?: (address: string) => boolean;
}

export function createTcpServer(opts: TcpOptions): { server: Server; destroyAll(): void } {
  const open = new Set<Socket>();
  const server = createServer({ allowHalfOpen: false }, (sock: Socket) => {
    if (opts.allows && !opts.allows(sock.remoteAddress ?? '')) {
      sock.on('error', () => undefined);
      return void sock.destroy();
    }
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    const client = { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    let buf: Buffer = Buffer.alloc(0);
    let pending = 0;
    const bad = (): void => {
      opts.onBad();
      sock.destroy();
    };
    sock.setNoDelay(true);
    sock.setTimeout(opts.idleMs, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (len < 12 || len > opts.maxQueryBytes) return bad();
        if (buf.length < 2 + len) {
          return;
        }
        const msg = Buffer.from(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        const reply = opts.handle(msg, client);
        if (reply === null) return bad();
        if (++pending > opts.maxPipelined) return bad();
        void reply.then((out) => {
          pending--;
          if (!out || sock.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(Math.min(out.length, 0xffff));
          sock.write(Buffer.concat([head, out.subarray(0, 0xffff)]));
        }, () => sock.destroy());
      }
    });
  });
  server.maxConnections = opts.maxConnections;
  return { server, destroyAll: () => open.forEach((s) => s.destroy()) };
}
