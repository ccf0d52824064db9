/**
 * Ways for a `ws` client to go through the proxy:
 * - wss over CONNECT: `new WebSocket(url, { agent: new ConnectAgent(proxyPort, { ca }) })`;
 * - ws over CONNECT: `createConnection: () => socket` with a tunnel from `openTunnel`;
 * - ws in absolute-form (`GET http://host/path` + Upgrade to the proxy, like browsers do for
 *   ws:// through an HTTP proxy): `createConnection: absoluteFormConnection(proxyPort, 'http://host')`.
 */
import net from 'node:net';

export { ConnectAgent } from './connect-client.js';

/** A socket to the proxy whose first write (the request head) gets an absolute-form target. */
export function absoluteFormConnection(proxyPort: number, origin: string): () => net.Socket {
  return () => {
    const socket = net.connect(proxyPort, '127.0.0.1');
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    let first = true;
    (socket as unknown as { write: typeof write }).write = (chunk: unknown, ...rest: unknown[]): boolean => {
      if (first && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
        first = false;
        const text = chunk.toString();
        return write(text.replace(/^([A-Z]+) \//, `$1 ${origin}/`), ...rest);
      }
      return write(chunk, ...rest);
    };
    return socket;
  };
}
