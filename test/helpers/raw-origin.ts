/**
 * A TCP "origin" that speaks whatever bytes a test scripts: for hostile upstream behaviours
 * (reset mid-body, hang, Trailer without chunking, garbage). `onConnection` gets each socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';

export interface RawOrigin {
  readonly port: number;
  close(): Promise<void>;
}

export async function startRawOrigin(onConnection: (socket: net.Socket) => void, host = '127.0.0.1'): Promise<RawOrigin> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Resolves once the socket has received a full request head (up to the blank line). */
export function onRequestHead(socket: net.Socket, fn: (head: string) => void): void {
  let buf = '';
  const onData = (c: Buffer): void => {
    buf += c.toString('latin1');
    const end = buf.indexOf('\r\n\r\n');
    if (end >= 0) {
      socket.off('data', onData);
      fn(buf.slice(0, end));
    }
  };
  socket.on('data', onData);
}

/** A TCP port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The same scripted origin behind TLS (a leaf from a test PKI), on 127.0.0.1. */
export async function startTlsRawOrigin(leaf: { key: string; cert: string }, onConnection: (socket: net.Socket) => void): Promise<RawOrigin> {
  const server = tls.createServer(leaf, (s) => {
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
