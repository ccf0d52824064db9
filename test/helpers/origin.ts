/**
 * Local origin servers standing in for the internet: HTTP or HTTPS (leaf from a test PKI), with a
 * route table, optional ws/wss, and access to the raw socket for hostile behaviours. Tests reach
 * them through the proxy's `resolve` option (e.g. `vector.test=127.0.0.1:<port>`).
 *
 *   const o = await startOrigin({ routes: { '/hello': (req, res) => res.end('hi') } });
 *   const s = await startOrigin({ tls: pki.leaf('a.test'), ws: true });
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface OriginOptions {
  /** Serve HTTPS with this key/cert (PEM). */
  readonly tls?: { key: string; cert: string };
  /** path (without query) -> handler; unknown paths get 404. A '*' route catches everything. */
  readonly routes?: Record<string, Handler>;
  /** Attach a WebSocket server; the default echoes every message back, prefixed "echo:". */
  readonly ws?: boolean | ((socket: WebSocket, req: http.IncomingMessage) => void);
  /** Subprotocols the ws server accepts (first offered one that is listed wins). */
  readonly wsProtocols?: readonly string[];
  readonly host?: string;
}

export interface Origin {
  readonly port: number;
  readonly host: string;
  /** Every request seen (method, url, raw headers). */
  readonly seen: Array<{ method: string; url: string; rawHeaders: string[]; protocol?: string }>;
  readonly server: http.Server;
  readonly wss?: WebSocketServer;
  close(): Promise<void>;
}

export async function startOrigin(opts: OriginOptions = {}): Promise<Origin> {
  const seen: Origin['seen'] = [];
  const sockets = new Set<Socket>();
  const onRequest: Handler = (req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders });
    const path = (req.url ?? '/').split('?')[0]!;
    const route = opts.routes?.[path] ?? opts.routes?.['*'];
    if (route) return route(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : http.createServer(onRequest);
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  let wss: WebSocketServer | undefined;
  if (opts.ws) {
    const protocols = opts.wsProtocols;
    wss = new WebSocketServer({
      server,
      ...(protocols ? { handleProtocols: (offered: Set<string>) => [...offered].find((p) => protocols.includes(p)) ?? false } : {}),
    });
    const onWs = typeof opts.ws === 'function' ? opts.ws : echo;
    wss.on('connection', (socket, req) => {
      seen.push({ method: 'WS', url: req.url ?? '', rawHeaders: req.rawHeaders, protocol: socket.protocol });
      onWs(socket, req);
    });
  }
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    seen,
    server,
    ...(wss ? { wss } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss?.clients ?? []) c.terminate();
        wss?.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function echo(socket: WebSocket): void {
  socket.on('message', (data, isBinary) => socket.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary }));
}

/** Reads a request body fully. */
export function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}
