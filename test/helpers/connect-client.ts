/**
 * A tiny CONNECT client: open a tunnel through an HTTP proxy, then speak TLS (or plain HTTP)
 * inside it. `ConnectAgent` plugs that into Node's https module so `https.request` goes through
 * the proxy with real keep-alive (several requests on one tunnel).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export interface TunnelResult {
  readonly socket: net.Socket;
  /** The proxy's answer to CONNECT, e.g. "HTTP/1.1 200 Connection Established". */
  readonly statusLine: string;
  readonly status: number;
  /** The answer's whole head (status line and header lines). */
  readonly head: string;
  /** Bytes the proxy sent after its answer's blank line. */
  readonly rest: Buffer;
}

/** Sends `CONNECT target` and resolves with the proxy's answer (the socket stays open on 200). */
export function openTunnel(proxyPort: number, target: string, proxyHost = '127.0.0.1'): Promise<TunnelResult> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxyPort, proxyHost);
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const head = buf.subarray(0, end).toString('latin1');
      const statusLine = head.split('\r\n')[0] ?? '';
      resolve({ socket, statusLine, status: Number(statusLine.split(' ')[1]), head, rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`proxy closed the connection (got ${JSON.stringify(buf.toString('latin1').slice(0, 80))})`)));
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}

export interface TlsOptions {
  readonly servername?: string;
  /** The name (or IP) the certificate must match when there is no servername. */
  readonly host?: string;
  readonly ca?: string | readonly string[];
  readonly rejectUnauthorized?: boolean;
}

/** TLS inside an open tunnel. */
export function tlsInTunnel(socket: net.Socket, opts: TlsOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({
      socket,
      ...(opts.servername ? { servername: opts.servername } : {}),
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.ca ? { ca: opts.ca as string[] } : {}),
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
      ALPNProtocols: ['http/1.1'],
    });
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  });
}

/** An https.Agent that reaches every origin through `CONNECT` on the given proxy. */
export class ConnectAgent extends https.Agent {
  tunnels = 0;
  constructor(
    private readonly proxyPort: number,
    options: https.AgentOptions = {},
  ) {
    super({ keepAlive: true, ...options });
    (this as unknown as { createConnection: unknown }).createConnection = this.connectThroughProxy.bind(this);
  }

  /** Node's Agent accepts an async createConnection(options, callback); typings only know the sync form. */
  connectThroughProxy(options: tls.ConnectionOptions & { host?: string; port?: number }, cb: (err: Error | null, socket?: net.Socket) => void): undefined {
    const host = options.host ?? 'localhost';
    const authority = host.includes(':') ? `[${host}]:${options.port}` : `${host}:${options.port}`;
    openTunnel(this.proxyPort, authority).then(
      ({ socket, status, statusLine }) => {
        if (status !== 200) {
          socket.destroy();
          return cb(new Error(`CONNECT refused: ${statusLine}`));
        }
        this.tunnels++;
        socket.resume();
        const servername = options.servername ?? (net.isIP(host) ? undefined : host);
        const t = tls.connect({ ...options, socket, ...(servername ? { servername } : {}) });
        cb(null, t);
      },
      (err: Error) => cb(err),
    );
    return undefined;
  }
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
}

/** One request with a body; resolves with the whole response. */
export function request(mod: typeof http | typeof https, options: https.RequestOptions, body?: Buffer | string): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = mod.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Absolute-form plain HTTP through the proxy (what curl --proxy does for http:// URLs). */
export function httpViaProxy(proxyPort: number, url: string, options: http.RequestOptions = {}, body?: Buffer | string): Promise<SimpleResponse> {
  const u = new URL(url);
  return request(http, { host: '127.0.0.1', port: proxyPort, path: url, agent: false, ...options, headers: { host: u.host, ...(options.headers ?? {}) } }, body);
}
